"""Assertion helpers with per-quantity tolerances, shared by the tests."""

from __future__ import annotations

import numpy as np

from arinspect.geometry import pose_error


def assert_pose_close(
    T_est: np.ndarray, T_true: np.ndarray, trans_m: float, rot_deg: float
) -> None:
    """Check two transforms of the same frames agree within a translation and a rotation."""
    dt, dr = pose_error(T_est, T_true)
    assert dt <= trans_m, f"translation off by {dt * 1000:.3f} mm (limit {trans_m * 1000:.3f} mm)"
    assert np.degrees(dr) <= rot_deg, (
        f"rotation off by {np.degrees(dr):.4f} deg (limit {rot_deg} deg)"
    )
