"""Benchmark: camera pose from markers (and CAD refinement) on renders with known truth.

Random viewpoints of the sample section and two generated sections, 640x480 (f = 600 px)
and 1280x720, sensor noise and motion blur; kept are frames with >= 3 markers detected, all
of them 1-4 m from the camera.
Prints accuracy (translation mm, rotation deg) and per-stage latency for:
- baseline: plain OpenCV single-marker PnP (SOLVEPNP_IPPE_SQUARE on the largest marker);
- marker PnP over all visible markers (arinspect.pose.pnp);
- marker PnP + ICP against the CAD on the rendered depth (1 mm noise at 1 m);
- marker PnP + the CAD's edges aligned with the image (colour only, the marker pose's
  covariance as the prior);
and the calibration of the covariance (share of true translation errors inside the 95 %
region). Then tracks a walk-past recording and prints the statuses.
Run: python benchmarks/bench_pose.py [--frames N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from arinspect.cad.generator import generate_section
from arinspect.cad.section import load_section
from arinspect.camera import CameraModel, default_camera
from arinspect.geometry import look_at_T_cam_world, pose_error
from arinspect.pose.covariance import CHI2_3DOF_95, translation_covariance
from arinspect.pose.marker_detection import MarkerDetector
from arinspect.pose.model_view import StructureModel
from arinspect.pose.pnp import estimate_pose, single_marker_pose
from arinspect.pose.refine_depth import refine_with_depth
from arinspect.pose.refine_edges import refine_with_edges
from arinspect.pose.tracker import PoseTracker
from arinspect.recording.bop import Recording
from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from arinspect.resources import SAMPLE_SECTION_DIR


def random_view(section, rng: np.random.Generator) -> np.ndarray:
    """A camera 1-4 m from a random marker, looking near it from above or in front."""
    marker = section.markers[rng.integers(len(section.markers))]
    centre = marker.T_section_marker[:3, 3]
    normal = marker.T_section_marker[:3, 2]
    direction = normal + np.array([0.0, 0.0, 1.0]) + rng.normal(0, 0.5, 3)
    direction /= np.linalg.norm(direction)
    eye = centre + direction * rng.uniform(1.0, 4.0)
    target = centre + rng.normal(0, 0.3, 3)
    up = np.array([0.0, 0.0, 1.0]) if abs(direction[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    return look_at_T_cam_world(eye, target, up)


def summary(errors_m: list[float]) -> str:
    e = np.asarray(errors_m) * 1000
    return f"median {np.median(e):6.2f}  p95 {np.quantile(e, 0.95):6.2f}  max {e.max():7.2f} mm"


def run_accuracy(sections, camera: CameraModel, n_frames: int, rng: np.random.Generator) -> None:
    rows = {
        "single marker (baseline)": [],
        "all markers": [],
        "all markers + depth ICP": [],
        "all markers + CAD edges": [],
    }
    rot = {k: [] for k in rows}
    times = {"detect": [], "pnp": [], "baseline": [], "icp": [], "edges": []}
    inside: dict[str, list[float]] = {"markers": [], "markers + CAD edges": []}
    n_done = 0
    while n_done < n_frames:
        section, scene, model, detector = sections[rng.integers(len(sections))]
        markers = {m.key: m for m in section.markers}
        T_true = random_view(section, rng)
        options = RenderOptions(
            noise_sigma=2.0,
            motion_blur_px=float(rng.uniform(0, 2.5)),
            supersample=3,
            depth_noise_m=0.001,
        )
        frame = render(scene, camera, T_true, options, rng)
        t0 = time.perf_counter()
        detections = detector.detect(frame.bgr)
        t1 = time.perf_counter()
        seen = [markers[d.key] for d in detections if d.key in markers]
        distances = [np.linalg.norm((T_true @ m.T_section_marker)[:3, 3]) for m in seen]
        if len(seen) < 3 or not all(1.0 <= d <= 4.0 for d in distances):
            continue  # the targets are stated for >= 3 markers in view at 1-4 m
        estimate = estimate_pose(detections, markers, camera)
        t2 = time.perf_counter()
        baseline = single_marker_pose(detections, markers, camera)
        t3 = time.perf_counter()
        if estimate is None or baseline is None:
            continue
        icp = refine_with_depth(model, camera, frame.depth_m, estimate.T_cam_section)
        t4 = time.perf_counter()
        edges = refine_with_edges(
            model, camera, frame.bgr, estimate.T_cam_section, prior_covariance=estimate.covariance
        )
        t5 = time.perf_counter()
        n_done += 1
        for key, T in (
            ("single marker (baseline)", baseline),
            ("all markers", estimate.T_cam_section),
            ("all markers + depth ICP", icp.T_cam_section),
            ("all markers + CAD edges", edges.T_cam_section),
        ):
            dt, dr = pose_error(T, T_true)
            rows[key].append(dt)
            rot[key].append(np.degrees(dr))
        times["detect"].append(t1 - t0)
        times["pnp"].append(t2 - t1)
        times["baseline"].append(t3 - t2)
        times["icp"].append(t4 - t3)
        times["edges"].append(t5 - t4)
        refined = edges.covariance is not None
        for key, T, covariance in (
            ("markers", estimate.T_cam_section, estimate.covariance),
            (
                "markers + CAD edges",
                edges.T_cam_section,
                edges.covariance if refined else estimate.covariance,
            ),
        ):
            error = T[:3, 3] - T_true[:3, 3]
            cov_t = translation_covariance(covariance, T)
            inside[key].append(float(error @ np.linalg.inv(cov_t) @ error))
    size = f"{camera.width}x{camera.height}"
    print(f"\n{size}, {n_frames} frames with >= 3 markers, 1-4 m, noise + blur")
    base = np.median(rows["single marker (baseline)"])
    for key in rows:
        ratio = base / np.median(rows[key])
        rotation = f"rotation median {np.median(rot[key]):.3f} deg"
        print(
            f"  {key:<26} translation {summary(rows[key])}  {rotation}  ({ratio:.1f}x vs baseline)"
        )
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(
        "  latency per frame (median): " + ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items())
    )
    det_pnp = np.median(np.asarray(times["detect"]) + np.asarray(times["pnp"])) * 1000
    det_base = np.median(np.asarray(times["detect"]) + np.asarray(times["baseline"])) * 1000
    print(
        f"  marker detection + PnP: {det_pnp:.1f} ms; baseline (detection + one marker):"
        f" {det_base:.1f} ms"
    )
    for key, values in inside.items():
        d2 = np.asarray(values)
        scale = np.sqrt(np.quantile(d2, 0.95) / CHI2_3DOF_95)
        print(
            f"  covariance ({key}): {np.mean(d2 <= CHI2_3DOF_95) * 100:.1f} % of true"
            f" translation errors ({int(np.sum(d2 <= CHI2_3DOF_95))} of {len(d2)}) inside the"
            f" 95 % region (target 90-98 %); sigma x {scale:.2f} would make it 95 %"
        )


def run_tracking(section_dir: Path, work: Path) -> None:
    rec_dir = work / "walk"
    spec = RecordingSpec(
        frames=24,
        seed=3,
        trajectory="walk",
        depth=True,
        options=RenderOptions(noise_sigma=2.0, motion_blur_px=1.5, depth_noise_m=0.001),
    )
    render_recording(section_dir, rec_dir, spec)
    rec = Recording(rec_dir)
    section = load_section(rec.section_folder)
    detector = MarkerDetector({m.family for m in section.markers})
    for use_depth in (False, True):
        tracker = PoseTracker(section, rec.camera)
        frames = {f["im_id"]: f for f in rec.meta["frames"]}
        statuses, errors, per_frame, flagged_ok, lost_with_3 = [], [], [], 0, 0
        for im_id in rec.frame_ids:
            image = rec.bgr(im_id)
            f = frames[im_id]
            t0 = time.perf_counter()
            result = tracker.process(
                im_id,
                image,
                rec.depth_m(im_id) if use_depth else None,
                f["timestamp_s"],
                np.asarray(f["T_world_cam"]),
            )
            per_frame.append(time.perf_counter() - t0)
            statuses.append(result.status)
            if result.T_cam_section is not None:
                err = pose_error(result.T_cam_section, rec.T_cam_section(im_id))[0]
                errors.append(err)
                if err > 0.02 and result.status != "tracked":
                    flagged_ok += 1
                if err > 0.02 and result.status == "tracked":
                    print(f"    frame {im_id}: off by {err * 1000:.0f} mm but tracked")
            n_visible = len([d for d in detector.detect(image) if d.key in tracker.markers])
            if n_visible >= 3 and result.status == "lost":
                lost_with_3 += 1
        counts = {s: statuses.count(s) for s in ("tracked", "reinitialised", "lost")}
        label = "with depth" if use_depth else "colour only"
        print(
            f"\ntracking a {len(statuses)}-frame walk-past ({label}, headset prediction): {counts}"
        )
        print(f"  translation error {summary(errors)}")
        print(
            f"  frames with >= 3 markers lost: {lost_with_3};"
            f" off by > 2 cm and flagged: {flagged_ok}"
        )
        print(
            "  per frame (detect + PnP + refinement): median"
            f" {statistics.median(per_frame) * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--frames",
        type=int,
        default=120,
        help="frames at 640x480 (half as many at 1280x720); the covariance's coverage needs"
        " about 100 to tell 95 %% from 100 %%",
    )
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dirs = [SAMPLE_SECTION_DIR] + [
            generate_section(seed, work / f"s{seed}").folder for seed in (101, 102)
        ]
        sections = []
        for d in dirs:
            section = load_section(d)
            sections.append(
                (
                    section,
                    SectionScene(section),
                    StructureModel(section),
                    MarkerDetector({m.family for m in section.markers}),
                )
            )
        run_accuracy(sections, default_camera(), args.frames, rng)
        hd = CameraModel(
            np.array([[900.0, 0, 639.5], [0, 900.0, 359.5], [0, 0, 1]]), np.zeros(5), (1280, 720)
        )
        run_accuracy(sections, hd, max(args.frames // 2, 10), rng)
        run_tracking(SAMPLE_SECTION_DIR, work)


if __name__ == "__main__":
    main()
