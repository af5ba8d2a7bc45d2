"""Standard scantlings and outfitting sizes shared by the catalog and the section generator.

All values in metres. They describe one consistent family of a panel block: T-bar
longitudinals passing through slotted web frames, DN100 pipes running above them.
"""

PLATE_THICKNESS_M = 0.012
"""Shell plate thickness."""

STIFFENER_WEB_HEIGHT_M = 0.25
"""Height of a longitudinal's web above the shell plate (T-bar 250 x 12 / 100 x 15)."""
STIFFENER_WEB_THICKNESS_M = 0.012
STIFFENER_FLANGE_WIDTH_M = 0.10
STIFFENER_FLANGE_THICKNESS_M = 0.015

WEB_FRAME_THICKNESS_M = 0.012
"""Transverse web frame plate thickness."""

SLOT_CLEARANCE_M = 0.02
"""Clearance around a longitudinal where it passes through a web frame's slot cut-out."""

PIPE_OD_M = 0.1143
"""Outside diameter of the DN100 pipe runs (114.3 mm)."""
PIPE_AXIS_HEIGHT_M = 0.45
"""Height of a pipe run's axis above the shell plate's inner surface."""
