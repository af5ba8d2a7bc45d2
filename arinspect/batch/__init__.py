"""Batch re-inspection of many recordings: manifest, workers, executors, resumable outputs.

``arinspect batch MANIFEST --out DIR`` inspects every recording the manifest lists with
the same code as ``arinspect inspect``, on a local process pool (default) or on Ray
(optional extra ``ray``), skipping recordings whose outputs are complete for the same
inputs. See docs/batch.md.
"""
