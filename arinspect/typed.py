"""Array type aliases used in signatures (named typed, not typing, to avoid the stdlib)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
"""Float64 array; shapes are stated in each docstring."""

UInt8Image = NDArray[np.uint8]
"""(H, W, 3) BGR or (H, W) grey image, uint8."""

IntArray = NDArray[np.int64]
"""Integer array (labels, indices)."""
