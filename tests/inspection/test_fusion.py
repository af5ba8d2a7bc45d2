from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from arinspect.cad.section import Part
from arinspect.camera import default_camera
from arinspect.geometry import look_at_T_cam_world, make_T, rotation_from_rotvec
from arinspect.inspection.evidence import PartLook, centre_jacobian
from arinspect.inspection.fusion import (
    FusionConfig,
    along_mount,
    at_place_by_depth,
    at_place_by_edges,
    common_pose_sigma_m,
    decide,
    detections_offset,
    edges_confirm_move,
    edges_show_it_moved_off_an_empty_place,
    fuse_offset,
    independent_looks,
    judged_by_edges,
    mount_prior,
    suggests_a_move,
)

PART = Part("COL-1", "collar_plate", "meshes/parts/collar_plate.ply", np.eye(4), 3.0, 2.0)
CENTRE = np.array([0.0, 0.0, 0.1])


def _look(im_id, good=True, detected=True, shift=None, jacobian=None, ratio=0.9, depth=None):
    return PartLook(
        im_id=im_id,
        good=good,
        visible_ratio=ratio,
        height_px=60.0,
        pose_quality=0.9,
        detection=0 if detected else None,
        score=0.9 if detected else 0.0,
        shift_px=shift,
        jacobian=jacobian,
        depth_present=depth,
        depth_through=None if depth is None else 1.0 - depth,
    )


def _views(n):
    """Cameras 2.5 m away on an arc above the part, looking at it."""
    camera = default_camera()
    poses = []
    for angle in np.linspace(-0.8, 0.8, n):
        eye = np.array([2.0 * np.sin(angle), -1.5 * np.cos(angle), 2.0])
        poses.append(look_at_T_cam_world(eye, CENTRE, [0.0, 0.0, 1.0]))
    return camera, poses


def _looks_with_offset(offset, n=6, noise_px=0.0, seed=0):
    camera, poses = _views(n)
    rng = np.random.default_rng(seed)
    looks = []
    for k, T in enumerate(poses):
        uv0, _ = camera.project(T, CENTRE[None])
        uv1, _ = camera.project(T, (CENTRE + offset)[None])
        shift = tuple(uv1[0] - uv0[0] + rng.normal(0.0, noise_px, 2))
        looks.append(_look(k, shift=shift, jacobian=centre_jacobian(camera, T, CENTRE)))
    return looks


def test_jacobian_predicts_small_pixel_motion():
    camera, (T, *_) = _views(1)
    J = centre_jacobian(camera, T, CENTRE)
    step = np.array([0.004, -0.003, 0.002])
    uv0, _ = camera.project(T, CENTRE[None])
    uv1, _ = camera.project(T, (CENTRE + step)[None])
    np.testing.assert_allclose(J @ step, uv1[0] - uv0[0], atol=0.01)


def test_offset_along_the_surface_is_recovered_from_several_views():
    offset = np.array([0.06, -0.03, 0.0])
    fused = fuse_offset(
        _looks_with_offset(offset, noise_px=1.0), mount_prior(PART, "surface", 0.01), FusionConfig()
    )
    assert fused is not None
    estimate, covariance = fused
    np.testing.assert_allclose(estimate, offset, atol=0.006)
    assert np.sqrt(np.trace(covariance)) < 0.02


def test_mount_prior_pins_surface_normal_and_inline_cross_axis():
    surface = mount_prior(PART, "surface", 0.01)
    np.testing.assert_allclose(surface, np.diag([0, 0, 1e4]))
    inline = mount_prior(PART, "inline", 0.01)
    np.testing.assert_allclose(inline, np.diag([0, 1e4, 1e4]))


def test_along_mount_keeps_the_directions_a_part_can_move_in():
    rotation = rotation_from_rotvec(np.array([0.3, -0.2, 0.5]))
    part = Part("X", "pipe_clamp", PART.mesh, make_T(rotation, CENTRE), 5.0, 2.0)
    vector = np.array([0.03, -0.02, 0.05])
    on_surface = along_mount(part, "surface", vector)
    assert abs(on_surface @ rotation[:, 2]) < 1e-12
    assert np.allclose(on_surface + (vector @ rotation[:, 2]) * rotation[:, 2], vector)
    axis = rotation[:, 0]
    assert np.allclose(along_mount(part, "inline", vector), (vector @ axis) * axis)


def test_moved_part_is_misplaced_with_its_offset():
    offset = np.array([0.05, 0.02, 0.0])
    finding = decide(PART, "surface", _looks_with_offset(offset, noise_px=1.0))
    assert finding.status == "misplaced"
    assert finding.offset_mm == pytest.approx(np.linalg.norm(offset) * 1000, abs=6)
    assert finding.offset_sigma_m < 0.02
    assert finding.confidence > 0.5
    assert finding.frames_seen == 6 and finding.detected_looks == 6


def test_part_in_place_is_present_despite_box_noise():
    finding = decide(PART, "surface", _looks_with_offset(np.zeros(3), noise_px=2.0, seed=3))
    assert finding.status == "present"
    assert finding.offset_mm < 15


def test_small_offset_within_noise_is_not_called_misplaced():
    finding = decide(PART, "surface", _looks_with_offset(np.array([0.01, 0.0, 0.0]), noise_px=2.0))
    assert finding.status == "present"


def test_part_never_detected_in_good_looks_is_missing():
    looks = [_look(k, detected=False) for k in range(5)]
    finding = decide(PART, "surface", looks)
    assert finding.status == "missing"
    assert finding.confidence > 0.95
    assert finding.offset_mm is None and finding.good_looks == 5


def test_part_never_seen_well_is_not_verified_never_missing():
    looks = [_look(k, good=False, detected=False, ratio=0.2) for k in range(10)]
    finding = decide(PART, "surface", looks)
    assert finding.status == "not_verified"
    assert "20%" in finding.reason
    assert decide(PART, "surface", []).reason == "never in view"


def test_depth_that_sees_the_part_vetoes_missing():
    looks = [_look(k, detected=False, depth=0.9) for k in range(5)]
    assert decide(PART, "surface", looks).status == "not_verified"
    looks = [_look(k, detected=False, depth=0.05) for k in range(5)]
    assert decide(PART, "surface", looks).status == "missing"


def test_ambiguous_detection_rate_is_not_verified():
    looks = [_look(k, detected=k < 3) for k in range(10)]
    assert decide(PART, "surface", looks).status == "not_verified"


def test_detections_implying_an_impossible_move_are_another_object():
    # Matched detections that put the part 40 cm away: a neighbour, not this part.
    finding = decide(PART, "surface", _looks_with_offset(np.array([0.4, 0.0, 0.0])))
    assert finding.status == "missing"
    assert "mm away ignored" in finding.reason
    assert finding.offset_mm is None


def test_detections_in_partial_views_stop_a_missing_call():
    undetected_good = [_look(k, detected=False) for k in range(3)]
    partial = [_look(10 + k, good=False, ratio=0.35, shift=(1.0, 0.0)) for k in range(3)]
    finding = decide(PART, "surface", undetected_good + partial)
    assert finding.status == "not_verified"
    assert "3 partial view(s)" in finding.reason
    assert decide(PART, "surface", undetected_good + partial[:2]).status == "missing"


def test_an_offset_the_views_barely_constrain_is_not_another_object():
    # A sleeve on a pipe along x, seen from 3 m down the pipe with the sleeve 120 px right of
    # the image centre: a sideways shift of its box is best explained by a long move along
    # the axis, which such views hardly measure (a move along the line of sight).
    sleeve = Part("PEN-1", "pipe_penetration_sleeve", "meshes/parts/x.ply", np.eye(4), 3.0, 2.0)
    camera = default_camera()
    looks = []
    for k, side in enumerate([0.55, 0.6, 0.65]):
        eye = CENTRE + np.array([3.0, side, 0.15])
        T = look_at_T_cam_world(eye, CENTRE + np.array([0.0, side, 0.0]), [0.0, 0.0, 1.0])
        looks.append(_look(k, shift=(10.0, 0.0), jacobian=centre_jacobian(camera, T, CENTRE)))
    fused = fuse_offset(looks, mount_prior(sleeve, "inline", 0.01), FusionConfig())
    assert fused is not None and abs(fused[0][0]) > FusionConfig().max_offset_m
    finding = decide(sleeve, "inline", looks)
    assert finding.status == "not_verified" and finding.offset_mm > 200
    assert finding.offset_mm - 2.5 * finding.offset_sigma_m * 1000 < 200
    assert "a move these views cannot measure" in finding.reason
    # A smaller shift leaves it present, and says that its offset was not measurable.
    small = [PartLook(**{**vars(look), "shift_px": (3.0, 0.0)}) for look in looks]
    finding = decide(sleeve, "inline", small)
    assert finding.status == "present" and finding.offset_sigma_m > 0.03
    assert "cannot measure its offset" in finding.reason


def test_box_centre_noise_grows_with_the_part_on_screen():
    def covariance(height_px):
        looks = [
            PartLook(**{**vars(look), "height_px": height_px})
            for look in _looks_with_offset(np.array([0.03, 0.0, 0.0]))
        ]
        config = FusionConfig(pose_sigma_m=0.0, independent_looks=100)
        return fuse_offset(looks, np.zeros((3, 3)), config)[1]

    # 5 % of 120 px = 6 px against the 1.5 px floor: 16 times the variance (to 0.1 %: the
    # 1 m prior on every direction stays).
    np.testing.assert_allclose(covariance(120.0), 16.0 * covariance(30.0), rtol=1e-3)


def _with_depth(look, offset):
    return PartLook(**{**vars(look), "depth_offset_m": np.asarray(offset, dtype=float)})


def test_one_depth_look_alone_does_not_set_the_offset():
    """A plate's depth measured on the steel behind it, once, must not make it misplaced.

    Four looks detect the part at its place; only the last is measurable (well enough in
    view for offsets), and its depth offset lies 12 cm along its line of sight, which
    neither its box centre nor the mount prior (the plate's normal is across the line of
    sight) can contradict.
    """
    _, poses = _views(4)
    sight = np.linalg.inv(poses[-1])[:3, 2]
    normal = np.cross(sight, [0.0, 0.0, 1.0])
    normal /= np.linalg.norm(normal)
    rotation = np.column_stack([np.cross(sight, normal), sight, normal])
    plate = Part("COL-2", "collar_plate", PART.mesh, make_T(rotation, CENTRE), 3.0, 2.0)
    looks = _looks_with_offset(np.zeros(3), n=4)
    looks = [PartLook(**{**vars(look), "jacobian": None}) for look in looks[:-1]] + looks[-1:]
    measured = looks[:-1] + [_with_depth(looks[-1], sight * 0.12)]
    assert decide(plate, "surface", measured).status == "present"
    trusting = FusionConfig(min_depth_looks=1, min_offset_looks=1)
    assert decide(plate, "surface", measured, trusting).status == "misplaced"


def test_two_measuring_looks_are_not_enough_to_call_a_part_misplaced_or_in_place():
    moved = [0.08, 0.0, 0.0]
    two = _looks_with_offset(moved, n=6)
    two = [PartLook(**{**vars(look), "jacobian": None}) for look in two[:4]] + two[4:]
    finding = decide(PART, "surface", two)
    assert finding.status == "not_verified"
    assert "in only 2 look(s)" in finding.reason
    assert np.linalg.norm(finding.offset_m - moved) < 0.01  # measured, not trusted
    three = _looks_with_offset(moved, n=6)
    three = [PartLook(**{**vars(look), "jacobian": None}) for look in three[:3]] + three[3:]
    assert decide(PART, "surface", three).status == "misplaced"


def test_a_rough_pose_weighs_less_in_the_offset():
    """Looks whose pose is uncertain at the part count for less than sharp ones."""
    sharp = _looks_with_offset(np.zeros(3), n=6)
    moved = _looks_with_offset(np.array([0.06, 0.0, 0.0]), n=6)
    rough = [PartLook(**{**vars(look), "pose_sigma_px": 30.0}) for look in moved]
    prior = mount_prior(PART, "surface", 0.01)
    equal, _ = fuse_offset(sharp + moved, prior, FusionConfig())
    weighted, _ = fuse_offset(sharp + rough, prior, FusionConfig())
    assert 0.02 < equal[0] < 0.04  # the two halves pull equally
    assert abs(weighted[0]) < 0.01  # the rough half hardly counts


def test_depth_offsets_the_box_centres_contradict_are_not_used():
    looks = _looks_with_offset(np.zeros(3), n=6)
    contradicted = [_with_depth(look, [0.08, 0.0, 0.0]) for look in looks[:2]] + looks[2:]
    estimate, _ = fuse_offset(contradicted, mount_prior(PART, "surface", 0.01), FusionConfig())
    assert np.linalg.norm(estimate) < 0.005
    offset = np.array([0.05, 0.02, 0.0])
    looks = _looks_with_offset(offset, n=6, noise_px=1.0)
    prior = mount_prior(PART, "surface", 0.01)
    _, pixel_only = fuse_offset(looks, prior, FusionConfig())
    agreeing = [_with_depth(look, offset) for look in looks[:2]] + looks[2:]
    estimate, with_depth = fuse_offset(agreeing, prior, FusionConfig())
    np.testing.assert_allclose(estimate, offset, atol=0.004)
    assert np.trace(with_depth) < np.trace(pixel_only)


def test_the_poses_common_error_is_not_averaged_away():
    """However many looks, the offset is no surer than the poses they were measured with."""
    prior = mount_prior(PART, "surface", 0.01)
    few = _looks_with_offset(np.zeros(3), n=4)
    many = _looks_with_offset(np.zeros(3), n=40)
    for looks in (few, many):
        rough = [PartLook(**{**vars(look), "pose_sigma_m": 0.012}) for look in looks]
        _, covariance = fuse_offset(rough, prior, FusionConfig())
        assert np.sqrt(np.linalg.eigvalsh(covariance).min()) >= 0.012
    _, sharp = fuse_offset(many, prior, FusionConfig())
    assert np.sqrt(np.linalg.eigvalsh(sharp).min()) < 0.006  # the floor alone, 3 mm
    moved = _looks_with_offset(np.array([0.05, 0.0, 0.0]), n=8)
    rough = [PartLook(**{**vars(look), "pose_sigma_m": 0.02}) for look in moved]
    assert decide(PART, "surface", moved).status == "misplaced"
    assert decide(PART, "surface", rough).status == "present"  # (50 - 3) mm: 2.35 sigma of 20 mm


def _in_pass(looks, pass_index, first_im_id=0):
    return [
        replace(look, pass_index=pass_index, im_id=first_im_id + k) for k, look in enumerate(looks)
    ]


def test_each_pass_brings_its_own_independent_looks():
    one_pass = [_look(k, detected=False) for k in range(16)]
    two_passes = [*_in_pass(one_pass[:8], 0), *_in_pass(one_pass[8:], 1)]
    assert independent_looks(one_pass, FusionConfig()) == 8  # consecutive looks correlate
    assert independent_looks(two_passes, FusionConfig()) == 16
    assert independent_looks([*_in_pass(one_pass[:12], 0), *_in_pass(one_pass[:3], 1)],
                             FusionConfig()) == 11  # fmt: skip
    config = FusionConfig(independent_looks=2)  # confidence short of 1.0 at 2 and 4 looks
    alone = decide(PART, "surface", one_pass[:4], config)
    together = decide(PART, "surface", [*_in_pass(one_pass[:2], 0), *_in_pass(one_pass[:2], 1)],
                      config)  # fmt: skip
    assert alone.status == together.status == "missing"
    assert alone.confidence == pytest.approx(1 - 0.15**2, abs=1e-3)
    assert together.confidence == pytest.approx(1 - 0.15**4, abs=1e-3)


def test_the_poses_common_errors_of_several_passes_average():
    """Each pass's poses err together; two passes' common errors are independent."""
    config = FusionConfig()
    looks = [replace(look, pose_sigma_m=0.02) for look in _looks_with_offset(np.zeros(3), n=8)]
    assert common_pose_sigma_m(looks, config) == pytest.approx(0.02)
    two = [*_in_pass(looks[:4], 0), *_in_pass(looks[4:], 1)]
    assert common_pose_sigma_m(two, config) == pytest.approx(0.02 / np.sqrt(2))
    unequal = [*_in_pass(looks[:4], 0), *_in_pass(
        [replace(look, pose_sigma_m=0.001) for look in looks[4:]], 1)]  # fmt: skip
    # the floor (3 mm) holds in the sharp pass: sqrt(20^2 + 3^2) / 2
    assert common_pose_sigma_m(unequal, config) == pytest.approx(np.hypot(0.02, 0.003) / 2)
    assert common_pose_sigma_m([], config) == config.pose_sigma_m


def test_a_part_seen_well_only_in_a_second_pass_is_decided_by_it():
    partial = [_look(k, good=False, detected=False, ratio=0.3) for k in range(6)]
    assert decide(PART, "surface", partial).status == "not_verified"
    second = _in_pass([_look(k, detected=False) for k in range(4)], 1)
    finding = decide(PART, "surface", [*partial, *second])
    assert finding.status == "missing" and finding.good_looks == 4
    assert (finding.best_pass, finding.best_frame) == (1, 0)


def _with_depth_share(looks, present):
    return [
        PartLook(**{**vars(look), "depth_present": present, "depth_through": 1.0 - present})
        for look in looks
    ]


def test_detections_at_a_place_depth_sees_through_are_something_else():
    """A pipe through a bare hole, taken for its sleeve: depth sees the steel behind."""
    at_place = _looks_with_offset(np.zeros(3), n=6)
    assert decide(PART, "surface", _with_depth_share(at_place, 0.9)).status == "present"
    finding = decide(PART, "surface", _with_depth_share(at_place, 0.0))
    assert finding.status == "missing"
    assert "something else" in finding.reason and finding.offset_mm is None
    unmeasured = [PartLook(**{**vars(look), "jacobian": None}) for look in at_place]
    assert decide(PART, "surface", _with_depth_share(unmeasured, 0.0)).status == "not_verified"
    # A measured move stands: depth sees through the place the part was moved from.
    moved = _looks_with_offset(np.array([0.08, 0.0, 0.0]), n=6)
    assert decide(PART, "surface", _with_depth_share(moved, 0.0)).status == "misplaced"


def test_depth_seeing_through_settles_ambiguous_and_partial_evidence():
    ambiguous = [_look(k, detected=k < 3, shift=(0.0, 0.0) if k < 3 else None) for k in range(10)]
    assert decide(PART, "surface", _with_depth_share(ambiguous, 0.0)).status == "not_verified"
    camera, poses = _views(10)
    measured = [
        PartLook(**{**vars(look), "jacobian": centre_jacobian(camera, T, CENTRE)})
        for look, T in zip(ambiguous, poses, strict=True)
    ]
    finding = decide(PART, "surface", _with_depth_share(measured, 0.0))
    assert finding.status == "missing"
    undetected_good = [_look(k, detected=False, depth=0.0) for k in range(3)]
    partial = [_look(10 + k, good=False, ratio=0.35, shift=(1.0, 0.0)) for k in range(3)]
    finding = decide(PART, "surface", undetected_good + partial)
    assert finding.status == "missing"
    assert "depth sees through its place" in finding.reason


def _with_edge_support(looks, support):
    return [PartLook(**{**vars(look), "edge_support": support}) for look in looks]


def _with_score(looks, score):
    return [PartLook(**{**vars(look), "score": score}) for look in looks]


def _shows(share):
    """A `SupportIfMoved` under which the image shows `share` of the part's edges anywhere."""
    return lambda part, offset_m, im_ids: [share] * len(im_ids)


def test_detections_where_the_image_shows_none_of_the_parts_edges_are_something_else():
    """Colour only: a sleeve's drawn rims are not in the image, only the pipe and its hole."""
    at_place = _looks_with_offset(np.zeros(3), n=6)
    assert decide(PART, "surface", _with_edge_support(at_place, 0.6)).status == "present"
    finding = decide(PART, "surface", _with_edge_support(at_place, 0.05))
    assert finding.status == "missing" and "something else" in finding.reason
    assert "the image shows 5% of its drawn edges in its 6 good looks" in finding.reason
    # Detections at the place argue for the part: a few edges more and they stand (a
    # handhole frame in place, 14 % of its edges from tracked poses).
    assert decide(PART, "surface", _with_edge_support(at_place, 0.12)).status == "present"
    # Too few looks with edges in view say nothing.
    few = _with_edge_support(at_place[:2], 0.1) + at_place[2:]
    assert decide(PART, "surface", few).status == "present"
    # A measured move stands: the part's edges are not where it was drawn.
    moved = _looks_with_offset(np.array([0.08, 0.0, 0.0]), n=6)
    assert decide(PART, "surface", _with_edge_support(moved, 0.1)).status == "misplaced"
    # An undetected part whose edges do not show either: missing, and the reason says so.
    undetected = [_look(k, detected=False) for k in range(4)]
    finding = decide(PART, "surface", _with_edge_support(undetected, 0.05))
    assert finding.status == "missing" and "drawn edges" in finding.reason
    # Detections near the place that the views cannot measure: the edges still decide
    # (a removed bracket's place seen from views along its move), where depth would not.
    unmeasured = [PartLook(**{**vars(look), "jacobian": None}) for look in at_place]
    finding = decide(PART, "surface", _with_edge_support(unmeasured, 0.05))
    assert finding.status == "missing" and "something else" in finding.reason
    assert decide(PART, "surface", _with_edge_support(unmeasured, 0.3)).status == "present"


def test_a_move_seen_only_by_weak_detections_is_not_called_misplaced():
    """A bare pipe scored 0.5 as the clamp removed from it must not send a fitter to move it."""
    moved = _looks_with_offset(np.array([0.08, 0.0, 0.0]), n=6)
    assert decide(PART, "surface", moved).status == "misplaced"  # scores 0.9
    weak = _with_score(moved, 0.5)
    finding = decide(PART, "surface", weak)
    assert finding.status == "not_verified"
    assert "only weakly (median score 0.50)" in finding.reason
    assert 70 < finding.offset_mm < 90


def test_a_weakly_detected_move_stands_where_the_parts_edges_show_there():
    """The demo's clamp half hidden by its pipe: scored 0.48, but its edges are where it went."""
    weak = _with_score(
        _with_edge_support(_looks_with_offset(np.array([0.08, 0.0, 0.0]), n=6), 0.3), 0.5
    )
    asked = []

    def shows(share):
        def support_if_moved(part, offset_m, im_ids):
            asked.append((part.id, np.round(offset_m, 3).tolist(), list(im_ids)))
            return [share] * len(im_ids)

        return support_if_moved

    finding = decide(PART, "surface", weak, support_if_moved=shows(0.8))
    assert finding.status == "misplaced" and 70 < finding.offset_mm < 90
    assert "shows 80% of its edges there against 30% at its place" in finding.reason
    assert asked[0][0] == "COL-1" and asked[0][2] == [(0, k) for k in range(6)]
    assert abs(asked[0][1][0] - 0.08) < 0.01
    # Edges no clearer where the detections put it than at its place: still not verified.
    assert decide(PART, "surface", weak, support_if_moved=shows(0.4)).status == "not_verified"
    # Confident detections are never second-guessed by the edges.
    confident = _with_edge_support(_looks_with_offset(np.array([0.08, 0.0, 0.0]), n=6), 0.3)
    asked.clear()
    assert decide(PART, "surface", confident, support_if_moved=shows(0.0)).status == "misplaced"
    assert asked == []


def test_detections_away_from_an_empty_place_that_show_the_part_no_better_are_not_it():
    """A bare hole taken for its removed sleeve, boxed 4 cm off: neither place shows the part."""
    moved = np.array([0.04, 0.0, 0.0])
    for score in (0.9, 0.5):  # confident or weak detections alike
        looks = _with_score(_with_edge_support(_looks_with_offset(moved, n=6), 0.1), score)
        finding = decide(PART, "surface", looks, support_if_moved=_shows(0.03))
        assert finding.status == "missing" and finding.offset_m is None
        assert "10% of its drawn edges at its place" in finding.reason
        assert "3% where the 6 detection(s) 40 mm away put it" in finding.reason
        # Where the part's edges do show where the detections put it, it moved there.
        assert decide(PART, "surface", looks, support_if_moved=_shows(0.6)).status == "misplaced"
    # A place not seen empty leaves a confident move to the detections.
    shown = _with_edge_support(_looks_with_offset(moved, n=6), 0.3)
    assert decide(PART, "surface", shown, support_if_moved=_shows(0.03)).status == "misplaced"


def test_a_handhole_frames_thin_rim_showing_little_does_not_overrule_its_detections():
    """In place, handhole frames show 7-15 % of their edges; removed ones 0-4 %."""
    frame = replace(PART, id="HHF-1", class_name="handhole_frame")
    at_place = _looks_with_offset(np.zeros(3), n=6)
    assert decide(frame, "surface", _with_edge_support(at_place, 0.07)).status == "present"
    assert decide(frame, "surface", _with_edge_support(at_place, 0.03)).status == "missing"
    # Other classes keep the shared thresholds: 7 % overrules a collar plate's detections.
    assert decide(PART, "surface", _with_edge_support(at_place, 0.07)).status == "missing"


def test_weak_detections_away_from_an_empty_place_need_clearly_more_edges_there():
    """A bare pipe scored 0.5 as its removed clamp: 14 % of the clamp's edges at its place,
    17 % where the weak boxes put it (a clamp in view shows 60 % or more): not the clamp."""
    moved = np.array([0.08, 0.0, 0.0])
    weak = _with_score(_with_edge_support(_looks_with_offset(moved, n=6), 0.14), 0.5)
    finding = decide(PART, "surface", weak, support_if_moved=_shows(0.17))
    assert finding.status == "missing" and finding.offset_m is None
    assert "14% of its drawn edges at its place" in finding.reason
    assert "17% where the 6 detection(s) 80 mm away put it" in finding.reason
    # Clearly more of its edges where the weak boxes put it: it moved there.
    assert decide(PART, "surface", weak, support_if_moved=_shows(0.6)).status == "misplaced"
    # Confident detections showing a little more there than at the empty place stand.
    confident = _with_edge_support(_looks_with_offset(moved, n=6), 0.14)
    assert decide(PART, "surface", confident, support_if_moved=_shows(0.17)).status == "misplaced"


def test_a_move_is_judged_again_by_the_offset_its_edges_measure():
    """A handhole frame boxed 38 mm off whose edges put it 24 ± 15 mm off is in its place."""
    misplaced = decide(PART, "surface", _looks_with_offset(np.array([0.08, 0.0, 0.0]), n=6))
    assert misplaced.status == "misplaced"
    config = FusionConfig()
    confirmed = judged_by_edges(
        PART, misplaced, np.array([0.09, 0.0, 0.0]), np.eye(3) * 0.004**2, config
    )
    assert confirmed.status == "misplaced" and confirmed.offset_mm == pytest.approx(90.0)
    assert confirmed.reason.startswith("90 ± 4 mm from its place by its edges (80 mm by its")
    within = judged_by_edges(
        PART, misplaced, np.array([0.024, 0.0, 0.0]), np.eye(3) * 0.015**2, config
    )
    assert within.status == "present" and within.offset_mm == pytest.approx(24.0)
    assert within.reason.startswith("at its place by its edges (offset 24 ± 15 mm; 80 mm")
    assert within.confidence > 0.9  # detected in all 6 good looks


def test_an_undetected_part_whose_edges_show_is_not_called_missing():
    """A 25 px lifting lug the detector missed in its two good looks, its edges plain."""
    undetected = [_look(k, detected=False) for k in range(2)]
    assert decide(PART, "surface", undetected).status == "missing"
    finding = decide(PART, "surface", _with_edge_support(undetected, 0.65))
    assert finding.status == "not_verified"
    assert "the image shows 65% of its drawn edges" in finding.reason
    assert decide(PART, "surface", _with_edge_support(undetected, 0.1)).status == "missing"


def _with_area_ratio(looks, area_ratio):
    return [PartLook(**{**vars(look), "area_ratio": area_ratio}) for look in looks]


def test_detections_boxing_something_smaller_at_the_place_do_not_count_as_the_part():
    in_place = _looks_with_offset(np.zeros(3), noise_px=0.5)
    assert decide(PART, "surface", _with_area_ratio(in_place, 0.95)).status == "present"
    hole = decide(PART, "surface", _with_area_ratio(in_place, 0.5))
    assert hole.status == "missing"
    assert "median 50% of its area" in hole.reason
    few = decide(PART, "surface", _with_area_ratio(in_place[:4], 0.5)[:2] + in_place[2:4])
    assert few.status == "present"  # two small boxes are too few to judge by
    moved = decide(PART, "surface", _with_area_ratio(_looks_with_offset([0.08, 0, 0]), 0.5))
    assert moved.status == "misplaced"  # only detections at the place are judged by size


def test_a_present_part_suggests_a_move_only_measurably_away():
    config = FusionConfig()
    present = decide(PART, "surface", _looks_with_offset(np.zeros(3), noise_px=0.5))
    assert present.status == "present" and not suggests_a_move(PART, present, config)

    def placed(offset_mm, sigma_mm, status="present"):
        offset = np.array([offset_mm / 1000.0, 0.0, 0.0])
        return replace(present, status=status, offset_m=offset, offset_sigma_m=sigma_mm / 1000)

    assert suggests_a_move(PART, placed(40, 18), config)  # 2.1 sigma beyond 3 mm: not sure
    assert not suggests_a_move(PART, placed(40, 40), config)  # 0.9 sigma: noise
    assert not suggests_a_move(PART, placed(25, 5), config)  # under 3 cm
    assert not suggests_a_move(PART, placed(80, 10, "misplaced"), config)


def test_edges_confirm_a_move_only_clearly_and_from_enough_looks():
    config = FusionConfig()
    assert edges_confirm_move([0.3] * 3, [0.6] * 3, config)
    assert not edges_confirm_move([0.3] * 3, [0.45] * 3, config)  # under half of its edges
    assert not edges_confirm_move([0.45] * 3, [0.6] * 3, config)  # not clearly more
    assert not edges_confirm_move([0.3] * 2, [0.9] * 2, config)  # too few looks


def test_a_move_whose_edges_show_clearly_better_at_the_place_is_no_move():
    """A cable-tray hanger in its place boxed 48 mm off: 95 % of its edges at its place."""
    config = FusionConfig()
    misplaced = decide(PART, "surface", _looks_with_offset(np.array([0.05, 0.0, 0.0]), n=6))
    assert misplaced.status == "misplaced"
    placed = at_place_by_edges(misplaced, [0.95] * 6, [0.65] * 6, config)
    assert placed.status == "present" and placed.offset_m is None
    assert placed.reason.startswith("at its place by its edges: the image shows 95% of them")
    assert "65% where its detections put it (50 ± " in placed.reason
    assert placed.confidence > 0.9  # detected in all 6 good looks
    # A moved part's edges along the move still show at its place, less than where it went.
    assert at_place_by_edges(misplaced, [0.52] * 6, [0.76] * 6, config) == misplaced
    assert at_place_by_edges(misplaced, [0.6] * 6, [0.45] * 6, config) == misplaced  # close
    assert at_place_by_edges(misplaced, [0.9] * 2, [0.1] * 2, config) == misplaced  # 2 looks
    present = replace(misplaced, status="present")
    assert at_place_by_edges(present, [0.95] * 6, [0.1] * 6, config) == present


def test_a_move_depth_sees_at_the_place_and_not_where_it_went_is_no_move():
    """Tripping brackets in place boxed 5-7 cm off: depth saw them all at their place."""
    config = FusionConfig()
    misplaced = decide(PART, "surface", _looks_with_offset(np.array([0.05, 0.0, 0.0]), n=6))
    assert misplaced.status == "misplaced"
    placed = at_place_by_depth(misplaced, [1.0, 0.98, 1.0], [0.3, 0.44, 0.24], config)
    assert placed.status == "present" and placed.offset_m is None
    assert placed.reason.startswith("at its place by depth: 100% of its pixels with depth")
    assert "30% where its detections put it (50 ± " in placed.reason
    assert placed.confidence > 0.9  # detected in all 6 good looks
    # A move shorter than the part leaves some of it at its place: depth sees it at both.
    assert at_place_by_depth(misplaced, [0.85] * 6, [0.58] * 6, config) == misplaced
    # Depth that does not see it at its place either says nothing about the move.
    assert at_place_by_depth(misplaced, [0.45] * 6, [0.1] * 6, config) == misplaced
    assert at_place_by_depth(misplaced, [1.0] * 2, [0.2] * 2, config) == misplaced  # 2 looks
    assert at_place_by_depth(misplaced, [0.5] * 3, [0.49] * 3, config).status == "present"
    assert at_place_by_depth(misplaced, [1.0] * 3, [0.5] * 3, config) == misplaced
    present = replace(misplaced, status="present")
    assert at_place_by_depth(present, [1.0] * 6, [0.1] * 6, config) == present


def test_detections_of_the_parts_size_away_from_a_place_depth_sees_empty_are_the_part():
    """A moved part whose lagging boxes alone measure the move short of sure."""
    rough = [
        PartLook(**{**vars(look), "pose_sigma_m": 0.02})
        for look in _looks_with_offset(np.array([0.05, 0.0, 0.0]), n=6)
    ]
    assert decide(PART, "surface", rough).status == "present"  # 50 ± 21 mm: 2.3 sigma
    moved = decide(PART, "surface", _with_depth_share(_with_area_ratio(rough, 0.95), 0.0))
    assert moved.status == "misplaced" and moved.offset_mm == pytest.approx(50, abs=1)
    assert "depth sees through its place" in moved.reason
    # Boxes of a bare hole, half the part's size, stay "something else": missing.
    hole = decide(PART, "surface", _with_depth_share(_with_area_ratio(rough, 0.5), 0.0))
    assert hole.status == "missing"
    # The part's size is read from the detections that measured the offset: boxes twice the
    # visible box of views where another part hides half of it do not make a hole the part.
    half_hidden = [
        replace(look, im_id=10 + k, jacobian=None, shift_px=None, visible_ratio=0.55,
                area_ratio=2.0)
        for k, look in enumerate([*rough, *rough[:2]])
    ]  # fmt: skip
    looks = _with_depth_share([*_with_area_ratio(rough, 0.5), *half_hidden], 0.0)
    assert decide(PART, "surface", looks).status == "missing"


def test_where_the_detections_put_a_part_whose_place_was_seen_empty():
    """Its detections' offset is measured whatever its status; undetected looks add nothing."""
    moved = [
        PartLook(**{**vars(look), "pose_sigma_m": 0.02})
        for look in _looks_with_offset(np.array([0.04, 0.0, 0.0]), n=6)
    ]
    missing = decide(PART, "surface", _with_edge_support(moved, 0.03))
    assert missing.status == "missing" and missing.offset_m is None  # 4 cm: short of sure
    undetected = [_look(10 + k, detected=False) for k in range(3)]
    offset, sigma = detections_offset(PART, "surface", [*moved, *undetected], FusionConfig())
    assert offset == pytest.approx([0.04, 0.0, 0.0], abs=0.002)
    assert 0.015 < sigma < 0.025  # the rough poses' common error
    assert detections_offset(PART, "surface", undetected, FusionConfig()) is None


def test_a_part_off_an_empty_place_need_show_only_more_than_a_removed_ones_place():
    """Two brackets moved 4 cm: 3 % and 7 % of their edges at their places, 43 % and 19 %
    where their edges put them; a removed part's place shows up to 15 %."""
    config = FusionConfig()
    shown = edges_show_it_moved_off_an_empty_place
    assert shown([0.03] * 6, [0.43] * 6, config)
    assert shown([0.07] * 6, [0.19] * 6, config)
    assert not edges_confirm_move([0.07] * 6, [0.19] * 6, config)  # not "clearly" there
    assert not shown([0.03] * 6, [0.12] * 6, config)  # what a removed part's place shows
    assert not shown([0.3] * 6, [0.25] * 6, config)  # no more than at its place
    assert not shown([0.03] * 2, [0.43] * 2, config)  # too few looks
