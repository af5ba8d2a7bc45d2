"""arinspect: AR-assisted inspection of ship sections against their CAD model.

Importing the package is cheap: heavy libraries (OpenCV, Open3D, trimesh, onnxruntime)
are imported by the modules that need them, never here.
"""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
