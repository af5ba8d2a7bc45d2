from __future__ import annotations

import numpy as np
import pytest

from arinspect.annotate.gesture import HIT, NO_HIT, NOT_A_PART, GestureAnchoring
from arinspect.camera import CameraModel, default_camera
from arinspect.errors import ConfigError
from arinspect.geometry import look_at_T_cam_world, transform_points


@pytest.fixture(scope="module")
def anchoring(sample_section):
    return GestureAnchoring(sample_section)


def _part_top(section, part_id):
    """A point on the part's top face (max z of its mesh), section frame, and the part."""
    part = section.part(part_id)
    vertices = transform_points(part.T_section_part, np.asarray(section.mesh(part).vertices))
    return vertices, part


def test_tap_hits_the_true_surface_point_within_a_millimetre(anchoring, sample_section):
    camera = CameraModel(
        default_camera().K, np.array([-0.12, 0.05, 0.001, -0.0005, 0.0]), (640, 480)
    )
    part = sample_section.part("LUG-F3")
    target = part.T_section_part[:3, 3] + np.array([0.0, 0.0, 0.05])
    T = look_at_T_cam_world(target + np.array([1.2, -2.0, 2.2]), target, [0, 0, 1])
    # Where the ray through the tapped pixel truly meets the part:
    truth = anchoring.point(np.linalg.inv(T)[:3, 3], target - np.linalg.inv(T)[:3, 3])
    assert truth.part_id == "LUG-F3"
    uv, _ = camera.project(T, truth.hit.point_section[None])
    anchor = anchoring.tap(uv[0, 0], uv[0, 1], camera, T, want_part=True)
    assert anchor.status == HIT and anchor.part_id == "LUG-F3"
    assert np.linalg.norm(anchor.hit.point_section - truth.hit.point_section) < 0.001
    normal = anchor.hit.normal_section
    assert np.linalg.norm(normal) == pytest.approx(1.0)
    assert normal @ (np.linalg.inv(T)[:3, 3] - anchor.hit.point_section) > 0  # faces the eye


def test_ray_into_the_sky_is_no_hit(anchoring):
    anchor = anchoring.point(np.array([1.0, 1.0, 3.0]), np.array([0.0, 0.0, 1.0]))
    assert anchor.status == NO_HIT and anchor.hit is None and anchor.part_id is None


def test_structure_is_never_attached_to_a_part(anchoring):
    # Straight down onto the shell plate between frames: structure, not a part.
    down = anchoring.point(np.array([0.3, 0.15, 2.0]), np.array([0.0, 0.0, -1.0]), want_part=True)
    assert down.status == NOT_A_PART
    assert down.hit.kind == "structure" and down.part_id is None
    plain = anchoring.point(np.array([0.3, 0.15, 2.0]), np.array([0.0, 0.0, -1.0]))
    assert plain.status == HIT and plain.hit.kind == "structure"
    assert plain.hit.point_section[2] == pytest.approx(0.0, abs=1e-4)
    assert plain.hit.distance_m == pytest.approx(2.0, abs=1e-4)


def test_stroke_becomes_polylines_split_per_element(anchoring, sample_section):
    part = sample_section.part("LUG-F3")
    centre = part.T_section_part[:3, 3]
    xs = np.linspace(-0.6, 0.6, 61)
    origins = np.stack([centre + [x, 0.0, 2.0] for x in xs])
    directions = np.tile([0.0, 0.0, -1.0], (len(xs), 1))
    segments = anchoring.stroke(origins, directions)
    ids = [s.element_id for s in segments]
    assert "LUG-F3" in ids
    assert ids[0] != "LUG-F3" and ids[-1] != "LUG-F3"  # starts and ends on other steel
    assert sum(len(s.points_section) for s in segments) == len(xs)  # no ray missed
    lug = segments[ids.index("LUG-F3")]
    assert lug.kind == "part"
    assert (np.diff(lug.points_section[:, 0]) > 0).all()  # stroke order kept


def test_stroke_in_pixels_matches_rays(anchoring):
    camera = default_camera()
    T = look_at_T_cam_world([3.0, -2.0, 3.0], [3.0, 1.5, 0.3], [0, 0, 1])
    uv = np.stack([np.linspace(100, 540, 30), np.full(30, 240.0)], axis=1)
    segments = anchoring.stroke_pixels(uv, camera, T)
    points = np.concatenate([s.points_section for s in segments])
    assert len(points) == len(uv)  # every sample lands on the model
    reprojected, _ = camera.project(T, points)
    assert np.abs(reprojected - uv).max() < 0.01


def test_bad_gestures_are_refused(anchoring):
    camera = default_camera()
    with pytest.raises(ConfigError, match="outside"):
        anchoring.tap(700.0, 10.0, camera, np.eye(4))
    with pytest.raises(ConfigError, match="non-zero"):
        anchoring.point(np.zeros(3), np.zeros(3))
