"""Calibration: camera intrinsics from board views, and marker maps of ship sections.

- `boards`: planar calibration targets (chessboard, ChArUco, circle grid) in metres,
  their points and printable images.
- `intrinsics`: board detection, ``cv2.calibrateCameraExtended``, outlier views, coverage.
- `registration`: bundle adjustment of a section's non-control markers against its
  surveyed control markers.
- `synthetic`: renders with known truth (board views, sections with displaced markers)
  for tests and benchmarks.
- `report`: readable summaries and the JSON registration report.

Importing this package is cheap; OpenCV and SciPy load with the modules that need them.
"""
