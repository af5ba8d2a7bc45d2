"""Calibration accuracy on renders with known truth: camera intrinsics and section marker maps.

Prints figures, asserts nothing. Two parts:

1. Intrinsics from 15 rendered ChArUco views at 640x480 (a lens with distortion, sensor
   noise), per seed: focal length error (%), principal point error (px), RMS; arinspect's
   calibration (outlier views dropped) next to OpenCV's plain ``calibrateCamera`` on the
   same detections.
2. Marker map of the bundled sample section whose non-control markers are displaced by
   up to 5 cm / 3 deg: `register_section` on the nominal section from survey photos
   taken by the capture plan of docs/calibration.md (`capture_plan_poses`: every
   non-control marker from >= 10 directions >= 30 deg apart at 1-4 m, each photo showing
   >= 2 other markers, confirmed on the render's label map), at 640x480 and 1280x960;
   per-marker position error (mm) and orientation error (deg) against the truth, and
   how the reported 1-sigma compares.

Run: .venv/bin/python benchmarks/bench_calibration.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from arinspect.cad.section import Section, load_section
from arinspect.calibration.boards import BoardSpec
from arinspect.calibration.intrinsics import calibrate_intrinsics, detect_views
from arinspect.calibration.registration import register_section
from arinspect.calibration.synthetic import (
    BoardRenderer,
    board_view_poses,
    capture_plan_poses,
    displace_markers,
    markers_seen_in_render,
)
from arinspect.camera import CameraModel, default_camera
from arinspect.geometry import pose_error
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from arinspect.resources import SAMPLE_SECTION_DIR

HEADSET = CameraModel(
    np.array([[604.0, 0.0, 322.4], [0.0, 602.5, 237.1], [0.0, 0.0, 1.0]]),
    np.array([-0.28, 0.09, 0.0006, -0.0004, -0.012]),
    (640, 480),
)
CHARUCO = BoardSpec("charuco", 9, 6, 0.04, 0.03, "DICT_5X5_100")


def intrinsics_errors(K: np.ndarray) -> tuple[float, float]:
    """Worst focal length error (%) and principal point error (px) against HEADSET."""
    focal = max(abs(K[0, 0] / HEADSET.K[0, 0] - 1), abs(K[1, 1] / HEADSET.K[1, 1] - 1)) * 100
    centre = float(np.hypot(K[0, 2] - HEADSET.K[0, 2], K[1, 2] - HEADSET.K[1, 2]))
    return focal, centre


def bench_intrinsics(seeds: list[int], views: int) -> None:
    print(f"== intrinsics: {views} rendered ChArUco views ({CHARUCO.describe()}) at 640x480")
    print("   lens: fx 604.0 fy 602.5 cx 322.4 cy 237.1, k1 -0.28 k2 0.09; noise 1 grey level")
    renderer = BoardRenderer(CHARUCO, HEADSET, subsamples=3)
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        poses = board_view_poses(CHARUCO, HEADSET, views, rng)
        started = time.perf_counter()
        images = [(f"v{i}", renderer.render(T, 1.0, rng)) for i, T in enumerate(poses)]
        render_s = time.perf_counter() - started
        started = time.perf_counter()
        found, dropped = detect_views(CHARUCO, images)
        detect_s = time.perf_counter() - started
        started = time.perf_counter()
        ours = calibrate_intrinsics(CHARUCO, found, HEADSET.image_size_wh, dropped=dropped)
        solve_s = time.perf_counter() - started
        plain_rms, plain_K, *_ = cv2.calibrateCamera(
            [v.points_board.astype(np.float32) for v in found],
            [v.points_px.astype(np.float32) for v in found],
            HEADSET.image_size_wh,
            None,
            None,
        )
        f_ours, c_ours = intrinsics_errors(ours.camera.K)
        f_plain, c_plain = intrinsics_errors(plain_K)
        rows.append((f_ours, c_ours, f_plain, c_plain))
        print(
            f"   seed {seed}: arinspect focal {f_ours:.3f} % pp {c_ours:.2f} px"
            f" rms {ours.rms_px:.3f} px ({len(ours.views)} views, {len(ours.dropped)} dropped,"
            f" sigma fx {ours.std_dev[0]:.2f} px) | plain calibrateCamera focal {f_plain:.3f} %"
            f" pp {c_plain:.2f} px rms {plain_rms:.3f} px"
            f" | render {render_s:.1f} s, detect {detect_s * 1000:.0f} ms,"
            f" solve {solve_s * 1000:.0f} ms"
        )
    table = np.array(rows)
    print(
        f"   median over {len(seeds)} seeds: arinspect focal {np.median(table[:, 0]):.3f} %"
        f" (max {table[:, 0].max():.3f}), pp {np.median(table[:, 1]):.2f} px"
        f" (max {table[:, 1].max():.2f}); plain focal {np.median(table[:, 2]):.3f} %,"
        f" pp {np.median(table[:, 3]):.2f} px   [target: focal <= 0.2 %, pp <= 1 px]"
    )


def plan_views(
    truth: Section, camera: CameraModel, rng: np.random.Generator
) -> tuple[list[np.ndarray], dict[bytes, np.ndarray], float]:
    """Survey views by the guide's capture plan, each confirmed on its render at `camera`.

    Returns the poses, the rendered BGR frames by pose bytes, and the time it took (s).
    """
    scene = SectionScene(truth)
    options = RenderOptions(noise_sigma=1.0)
    rendered: dict[bytes, np.ndarray] = {}

    def check(T_cam_section: np.ndarray) -> np.ndarray:
        result = render(scene, camera, T_cam_section, options, rng)
        rendered[T_cam_section.tobytes()] = result.bgr
        return markers_seen_in_render(truth, scene, camera, T_cam_section, result.label_map)

    started = time.perf_counter()
    poses = capture_plan_poses(truth, camera, (1.0, 4.0), rng, check=check)
    return poses, rendered, time.perf_counter() - started


def bench_marker_map(cameras: list[tuple[CameraModel, str]], seed: int) -> None:
    nominal = load_section(SAMPLE_SECTION_DIR)
    rng = np.random.default_rng(seed)
    truth = displace_markers(nominal, rng, max_offset_m=0.05, max_angle_deg=3.0)
    poses, rendered, plan_s = plan_views(truth, cameras[0][0], rng)
    print(
        f"== marker map: section {nominal.name} ({len(nominal.markers)} markers,"
        f" {sum(m.control for m in nominal.markers)} control), markers displaced 5 cm / 3 deg;"
        f" capture plan: {len(poses)} views 1-4 m, every non-control marker in >= 10 of them"
        f" from directions >= 30 deg apart (closer where steel leaves a narrow cone), each"
        f" with >= 2 other markers, checked on the render ({len(rendered)} renders,"
        f" {plan_s:.0f} s)"
    )
    for i, (camera, label) in enumerate(cameras):
        # The plan's renders are at the first camera; the others render the same poses.
        frames = rendered if i == 0 else {}
        bench_registration(nominal, truth, poses, frames, camera, label, rng)


def bench_registration(
    nominal: Section,
    truth: Section,
    poses: list[np.ndarray],
    rendered: dict[bytes, np.ndarray],
    camera: CameraModel,
    label: str,
    rng: np.random.Generator,
) -> None:
    print(f"-- {label} {camera.width}x{camera.height} f {camera.K[0, 0]:.0f} px")
    started = time.perf_counter()
    scene = SectionScene(truth)
    options = RenderOptions(noise_sigma=1.0)
    frames = []
    for i, T in enumerate(poses):
        bgr = rendered.get(T.tobytes())
        if bgr is None:
            bgr = render(scene, camera, T, options, rng).bgr
        frames.append((f"v{i:02d}", bgr))
    render_s = time.perf_counter() - started
    started = time.perf_counter()
    result = register_section(nominal, camera, frames)
    register_s = time.perf_counter() - started
    true_poses = {m.key: m.T_section_marker for m in truth.markers}
    position_mm, angle_deg, sigma_ratio = [], [], []
    for entry in result.markers:
        if entry.status != "registered":
            if entry.status == "not_registered":
                print(f"   {entry.marker.family}/{entry.marker.id}: not registered ({entry.note})")
            continue
        dt, dr = pose_error(entry.marker.T_section_marker, true_poses[entry.marker.key])
        sigma_mm = float(np.linalg.norm(entry.position_sigma_m)) * 1000
        position_mm.append(dt * 1000)
        angle_deg.append(np.degrees(dr))
        sigma_ratio.append(dt * 1000 / sigma_mm)
        print(
            f"   {entry.marker.family}/{entry.marker.id}: {entry.views:2d} views, error"
            f" {dt * 1000:5.2f} mm {np.degrees(dr):.3f} deg, reported sigma {sigma_mm:.2f} mm,"
            f" correction found {np.linalg.norm(entry.correction_m) * 1000:.1f} mm"
        )
    print(
        f"   position error median {np.median(position_mm):.2f} mm, max {max(position_mm):.2f} mm;"
        f" orientation median {np.median(angle_deg):.3f} deg, max {max(angle_deg):.3f} deg;"
        f" error / reported sigma median {np.median(sigma_ratio):.2f}"
        f"   [target: <= 1 mm median, <= 3 mm max, <= 0.2 deg]"
    )
    print(
        f"   {len(result.views)} views used, {len(result.skipped_views)} skipped, RMS"
        f" {result.rms_px:.3f} px, {len(result.outliers)} outlier observation(s);"
        f" render {render_s:.0f} s, detect + register {register_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer intrinsics seeds")
    parser.add_argument("--skip-intrinsics", action="store_true", help="marker map only")
    args = parser.parse_args()
    cv2.setRNGSeed(0)
    if not args.skip_intrinsics:
        bench_intrinsics([1, 2] if args.quick else [1, 2, 3, 4, 5], 15)
    bench_marker_map(
        [(default_camera(), "headset camera"), (default_camera().scaled(2.0), "survey camera")],
        seed=11,
    )


if __name__ == "__main__":
    main()
