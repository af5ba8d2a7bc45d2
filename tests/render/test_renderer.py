import cv2
import numpy as np
import pytest

from arinspect.camera import CameraModel, default_camera
from arinspect.errors import ConfigError
from arinspect.geometry import invert_T, look_at_T_cam_world, transform_points
from arinspect.markers import dictionary, marker_corners_marker
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene


@pytest.fixture(scope="module")
def scene(sample_section) -> SectionScene:
    return SectionScene(sample_section)


def overview_pose(section) -> np.ndarray:
    return look_at_T_cam_world([3.0, -2.5, 3.5], [3.0, 1.4, 0.2], [0, 0, 1])


def test_depth_and_labels_of_the_shell_plate_are_exact(scene, sample_section):
    camera = default_camera().scaled(0.5)
    T_cam_section = overview_pose(sample_section)
    result = render(scene, camera, T_cam_section, RenderOptions(noise_sigma=0.0))
    shell = scene.label_by_id()["SHELL"]
    interior = cv2.erode(
        (result.label_map == shell).astype(np.uint8), np.ones((3, 3), np.uint8)
    ).astype(bool)
    assert interior.sum() > 1000
    pts_cam = camera.pixel_rays_cam[interior] * result.depth_m[interior, None]
    z_section = transform_points(invert_T(T_cam_section), pts_cam)[:, 2]
    # The plate's inner surface is z = 0; a few pixels see its 12 mm edge.
    assert np.mean(np.abs(z_section) < 1e-4) > 0.97
    assert result.depth_m[result.label_map == 0].max() == 0.0
    assert result.bgr.shape == (240, 320, 3) and result.label_map.dtype == np.uint16


@pytest.mark.parametrize("distorted", [False, True])
def test_markers_are_detected_where_they_project(scene, sample_section, distorted):
    camera = default_camera()
    if distorted:
        camera = CameraModel(camera.K, [-0.25, 0.08, 0.001, -0.001, 0.0], camera.image_size_wh)
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    errors = []
    for marker in sample_section.markers[:4]:
        centre = marker.T_section_marker[:3, 3]
        normal, up = marker.T_section_marker[:3, 2], marker.T_section_marker[:3, 1]
        T_cam_section = look_at_T_cam_world(
            centre + 1.4 * normal + 0.4 * up + [0.2, 0.1, 0.0], centre, up
        )
        result = render(
            scene, camera, T_cam_section, RenderOptions(noise_sigma=1.0), np.random.default_rng(0)
        )
        detector = cv2.aruco.ArucoDetector(dictionary(marker.family), params)
        corners, ids, _ = detector.detectMarkers(cv2.cvtColor(result.bgr, cv2.COLOR_BGR2GRAY))
        assert ids is not None and marker.id in ids.ravel(), f"marker {marker.id} not detected"
        found = corners[list(ids.ravel()).index(marker.id)].reshape(4, 2)
        expected, _ = camera.project(
            T_cam_section @ marker.T_section_marker, marker_corners_marker(marker.size_m)
        )
        errors.append(np.linalg.norm(found - expected, axis=1).max())
    assert max(errors) < 1.0, errors


def test_nuisances_change_colour_only_and_are_reproducible(scene, sample_section):
    camera = default_camera().scaled(0.5)
    T = overview_pose(sample_section)
    clean = render(scene, camera, T, RenderOptions())
    noisy_a = render(
        scene,
        camera,
        T,
        RenderOptions(noise_sigma=4.0, motion_blur_px=6, exposure_ev=1.0),
        np.random.default_rng(3),
    )
    noisy_b = render(
        scene,
        camera,
        T,
        RenderOptions(noise_sigma=4.0, motion_blur_px=6, exposure_ev=1.0),
        np.random.default_rng(3),
    )
    np.testing.assert_array_equal(noisy_a.bgr, noisy_b.bgr)
    np.testing.assert_array_equal(noisy_a.depth_m, clean.depth_m)
    np.testing.assert_array_equal(noisy_a.label_map, clean.label_map)
    assert noisy_a.bgr.mean() > clean.bgr.mean() + 10  # one stop brighter

    def sharpness(image):
        return cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()

    blurred = render(scene, camera, T, RenderOptions(motion_blur_px=8))
    assert sharpness(blurred.bgr) < 0.5 * sharpness(clean.bgr)


def test_removed_and_moved_parts(scene, sample_section):
    camera = default_camera().scaled(0.5)
    T = overview_pose(sample_section)
    before = render(scene, camera, T, RenderOptions())
    counts = np.bincount(before.label_map.ravel(), minlength=len(scene.labels))
    visible = [lab for lab in scene.labels if lab.kind == "part" and counts[lab.index] > 100]
    gone, shifted = visible[0].id, visible[1].id
    moved_T = sample_section.part(shifted).T_section_part.copy()
    moved_T[:3, 3] += [0.0, 0.0, 0.15]
    changed = SectionScene(sample_section, {gone}, {shifted: moved_T})
    after = render(changed, camera, T, RenderOptions())
    assert gone not in changed.label_by_id()
    ys_before, _ = np.nonzero(before.label_map == scene.label_by_id()[shifted])
    ys_after, _ = np.nonzero(after.label_map == changed.label_by_id()[shifted])
    assert ys_after.mean() < ys_before.mean() - 5  # lifted 15 cm: higher in the image
    with pytest.raises(ConfigError, match="no part"):
        SectionScene(sample_section, {"NOT-A-PART"})


def test_apriltag_sections_render_detectable_tags(tmp_path):
    from arinspect.cad.generator import GeneratorConfig, generate_section

    section = generate_section(
        4, tmp_path / "tags", config=GeneratorConfig(marker_family="apriltag_36h11")
    )
    scene = SectionScene(section)
    marker = section.markers[0]
    centre, normal, up = (marker.T_section_marker[:3, k] for k in (3, 2, 1))
    T_cam_section = look_at_T_cam_world(centre + 1.2 * normal + 0.3 * up, centre, up)
    result = render(scene, default_camera(), T_cam_section, RenderOptions(noise_sigma=1.0))
    detector = cv2.aruco.ArucoDetector(dictionary("apriltag_36h11"), cv2.aruco.DetectorParameters())
    _, ids, _ = detector.detectMarkers(cv2.cvtColor(result.bgr, cv2.COLOR_BGR2GRAY))
    assert ids is not None and marker.id in ids.ravel()


def test_depth_sensor_nuisances_add_noise_and_holes_but_keep_colour(scene, sample_section):
    camera = default_camera().scaled(0.5)
    T = overview_pose(sample_section)
    exact = render(scene, camera, T, RenderOptions())
    noisy = render(
        scene, camera, T, RenderOptions(depth_noise_m=0.002, depth_grazing_limit_deg=75.0)
    )
    np.testing.assert_array_equal(noisy.bgr, exact.bgr)
    both = (exact.depth_m > 0) & (noisy.depth_m > 0)
    relative = (noisy.depth_m[both] - exact.depth_m[both]) / exact.depth_m[both] ** 2
    assert np.std(relative) == pytest.approx(0.002, rel=0.1)  # sigma(z) = 2 mm * z^2
    holes = (exact.depth_m > 0) & (noisy.depth_m == 0)
    assert 0.001 < holes.mean() < 0.2  # grazing surfaces (plate edges, stiffener webs) drop out
    no_holes = render(scene, camera, T, RenderOptions(depth_noise_m=0.002))
    assert not ((exact.depth_m > 0) & (no_holes.depth_m == 0)).any()
