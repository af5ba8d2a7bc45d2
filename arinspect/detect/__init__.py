"""The part detector: synthetic training data, the ONNX runtime, and its evaluation.

Training (``arinspect.detect.training``) needs the optional ``train`` extra (PyTorch);
everything else runs on onnxruntime and numpy alone.
"""
