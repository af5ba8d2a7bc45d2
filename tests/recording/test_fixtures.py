"""Ground truth of the recorded-frame fixtures (tests/fixtures) checked independently.

The renderer ray-casts; these tests rasterise the meshes with OpenCV's own projection
(with distortion) and back-project the depth maps onto the meshes, so a wrong pose, a
label table out of order, a half-pixel shift or a depth scale error would show.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import trimesh

from arinspect.cad.section import load_section
from arinspect.geometry import invert_T, transform_points
from arinspect.recording.bop import Recording

MIN_PART_PX = 200


def silhouette(recording: Recording, T_cam_part: np.ndarray, mesh: trimesh.Trimesh) -> np.ndarray:
    """(H, W) bool mask of the mesh's projection, all faces filled (no occlusion)."""
    camera = recording.camera
    uv, z = camera.project(T_cam_part, mesh.vertices)
    mask = np.zeros((camera.height, camera.width), np.uint8)
    faces = mesh.faces[np.all(z[mesh.faces] > 0.05, axis=1)]
    for triangle in np.round(uv[faces] * 16).astype(np.int32):  # fillPoly would XOR overlaps
        cv2.fillConvexPoly(mask, triangle, 1, cv2.LINE_8, 4)
    return mask.astype(bool)


def part_poses(recording: Recording) -> dict[str, np.ndarray]:
    return {
        p["id"]: np.asarray(p["T_section_part"])
        for p in recording.meta["parts"]
        if p["status"] != "removed"
    }


def label_index(recording: Recording) -> dict[str, int]:
    return {entry["id"]: entry["index"] for entry in recording.meta["labels"]}


@pytest.fixture(scope="module", params=["walk_depth", "defects"])
def recording(request, fixtures_dir) -> Recording:
    return Recording(fixtures_dir / request.param)


def test_fixture_points_at_the_bundled_sample_and_has_ground_truth(recording):
    section = load_section(recording.section_folder)
    assert section.name == recording.meta["section_name"] == "block-2"
    assert recording.camera.image_size_wh == (640, 480)
    for im_id in recording.frame_ids:
        assert recording.T_cam_section(im_id) is not None
        assert recording.bgr(im_id).shape == (480, 640, 3)


def test_visible_parts_project_onto_their_pixels_in_the_label_map(recording):
    section = load_section(recording.section_folder)
    poses, labels = part_poses(recording), label_index(recording)
    unoccluded_ious = []
    for im_id in recording.frame_ids:
        T_cam_section = recording.T_cam_section(im_id)
        label_map = recording.label_map(im_id)
        for part_id, T_section_part in poses.items():
            pixels = label_map == labels[part_id]
            if pixels.sum() < MIN_PART_PX:
                continue
            mask = silhouette(
                recording, T_cam_section @ T_section_part, section.mesh(section.part(part_id))
            )
            grown = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
            inside = (pixels & grown).sum() / pixels.sum()
            assert inside >= 0.98, (
                f"frame {im_id} {part_id}: only {inside:.1%} of its pixels inside its projection"
            )
            if pixels.sum() >= 0.9 * mask.sum():  # (almost) nothing in front of it
                unoccluded_ious.append((pixels & mask).sum() / (pixels | mask).sum())
    assert len(unoccluded_ious) >= 5
    assert np.median(unoccluded_ious) >= 0.9, f"median IoU {np.median(unoccluded_ious):.3f}"


def test_depth_lies_on_the_meshes(fixtures_dir):
    recording = Recording(fixtures_dir / "walk_depth")
    section = load_section(recording.section_folder)
    labels = {entry["index"]: entry for entry in recording.meta["labels"]}
    rays = recording.camera.pixel_rays_cam
    rng = np.random.default_rng(0)
    checked = 0
    for im_id in recording.frame_ids[::2]:
        depth = recording.depth_m(im_id)
        label_map = recording.label_map(im_id)
        T_section_cam = invert_T(recording.T_cam_section(im_id))
        interior = cv2.erode((label_map > 0).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(
            bool
        )
        for index in np.unique(label_map[interior]):
            entry = labels[int(index)]
            if entry["kind"] == "marker":
                continue
            element = (
                section.part(entry["id"])
                if entry["kind"] == "part"
                else next(s for s in section.structure if s.id == entry["id"])
            )
            ys, xs = np.nonzero(interior & (label_map == index))
            pick = rng.choice(len(ys), size=min(40, len(ys)), replace=False)
            pts_cam = rays[ys[pick], xs[pick]] * depth[ys[pick], xs[pick], None]
            pts_part = transform_points(invert_T(element.T_section_part) @ T_section_cam, pts_cam)
            _, distance, _ = trimesh.proximity.closest_point(section.mesh(element), pts_part)
            assert np.median(distance) < 0.5e-3, (
                f"{entry['id']} frame {im_id}: median {np.median(distance) * 1000:.2f} mm"
            )
            assert np.quantile(distance, 0.95) < 2e-3, f"{entry['id']} frame {im_id}"
            checked += 1
    assert checked >= 20


def test_removed_parts_are_absent_and_moved_parts_are_at_their_new_place(fixtures_dir):
    recording = Recording(fixtures_dir / "defects")
    section = load_section(recording.section_folder)
    truth = {p["id"]: p for p in recording.meta["parts"]}
    removed = {k for k, p in truth.items() if p["status"] == "removed"}
    moved = {k for k, p in truth.items() if p["status"] == "moved"}
    assert removed == {"CTH-3", "COL-F2-L3"}
    assert moved == {"CLP-P2-3", "BKT-F1-B2A"}
    assert not removed & set(label_index(recording))
    np.testing.assert_allclose(truth["CLP-P2-3"]["offset_m"], [0.08, 0.0, 0.0])
    labels = label_index(recording)
    seen_moved = 0
    for im_id in recording.frame_ids:
        T_cam_section = recording.T_cam_section(im_id)
        label_map = recording.label_map(im_id)
        for part_id in moved:
            pixels = label_map == labels[part_id]
            if pixels.sum() < MIN_PART_PX:
                continue
            mesh = section.mesh(section.part(part_id))
            actual = silhouette(
                recording, T_cam_section @ np.asarray(truth[part_id]["T_section_part"]), mesh
            )
            nominal = silhouette(
                recording, T_cam_section @ section.part(part_id).T_section_part, mesh
            )
            inside_actual = (pixels & actual).sum() / pixels.sum()
            inside_nominal = (pixels & nominal).sum() / pixels.sum()
            assert inside_actual > 0.95 and inside_actual > inside_nominal + 0.2, (
                part_id,
                im_id,
                inside_actual,
                inside_nominal,
            )
            seen_moved += 1
    assert seen_moved >= 3
