import numpy as np
import pytest

from arinspect.geometry import rotation_from_rotvec
from arinspect.recording.defects import move_along_mount


def test_moves_along_the_mount_stay_on_the_surface_or_the_pipe():
    R = rotation_from_rotvec([0.3, -0.2, 0.5])
    T = np.eye(4)
    T[:3, :3] = R
    rng = np.random.default_rng(1)
    for _ in range(20):
        surface = np.asarray(move_along_mount(T, "surface", 0.08, rng))
        assert np.linalg.norm(surface) == pytest.approx(0.08)
        assert abs(surface @ R[:, 2]) < 1e-12  # nothing out of the mounting surface
        inline = np.asarray(move_along_mount(T, "inline", 0.05, rng))
        assert abs(abs(inline @ R[:, 0]) - 0.05) < 1e-12  # along the pipe, either way
