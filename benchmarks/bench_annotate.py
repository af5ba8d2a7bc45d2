"""Benchmark: gesture anchoring on the sample section — accuracy and time per tap.

Random taps on parts in random 640x480 views (with lens distortion) at 1-4 m: the tap is
the projection of a point sampled on the part's mesh surface (trimesh), visible from the
camera, so the anchored point must come back within 1 mm of it.
Time per tap (distortion inversion, ray cast, lookup) beside a bare Open3D cast of one
ray measured in the same run (the baseline). Also the time per point of a 200-sample stroke.
Run: python benchmarks/bench_annotate.py [--taps N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import open3d as o3d
import trimesh

from arinspect.annotate.gesture import GestureAnchoring
from arinspect.cad.section import load_section
from arinspect.camera import CameraModel, default_camera
from arinspect.geometry import invert_T, look_at_T_cam_world
from arinspect.resources import SAMPLE_SECTION_DIR


def main() -> None:
    """Print accuracy and latency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--taps", type=int, default=300)
    args = parser.parse_args()
    section = load_section(SAMPLE_SECTION_DIR)
    anchoring = GestureAnchoring(section)
    camera = CameraModel(
        default_camera().K, np.array([-0.12, 0.05, 0.001, -0.0005, 0.0]), (640, 480)
    )
    rng = np.random.default_rng(0)
    errors, tap_ms, bare_ms = [], [], []
    bare = o3d.t.geometry.RaycastingScene()
    for element in section.elements():
        mesh = section.mesh(element)
        vertices = (element.T_section_part[:3, :3] @ mesh.vertices.T).T + element.T_section_part[
            :3, 3
        ]
        bare.add_triangles(
            o3d.core.Tensor(vertices.astype(np.float32)),
            o3d.core.Tensor(np.asarray(mesh.faces, dtype=np.uint32)),
        )
    while len(errors) < args.taps:
        part = section.parts[rng.integers(len(section.parts))]
        mesh = section.mesh(part)
        local, _ = trimesh.sample.sample_surface(mesh, 1, seed=int(rng.integers(1 << 30)))
        target = part.T_section_part[:3, :3] @ local[0] + part.T_section_part[:3, 3]
        direction = rng.normal(0, 1, 3)
        direction[2] = abs(direction[2]) + 0.8
        eye = target + direction / np.linalg.norm(direction) * rng.uniform(1.0, 4.0)
        T = look_at_T_cam_world(eye, target + rng.normal(0, 0.2, 3), [0, 0, 1])
        first = anchoring.point(eye, target - eye)
        if (
            first.part_id != part.id
            or abs(first.hit.distance_m - np.linalg.norm(target - eye)) > 1e-4
        ):
            continue  # the sampled point is hidden from there
        uv, _ = camera.project(T, target[None])
        if not (0 <= uv[0, 0] <= 639 and 0 <= uv[0, 1] <= 479):
            continue
        start = time.perf_counter()
        anchor = anchoring.tap(uv[0, 0], uv[0, 1], camera, T, want_part=True)
        tap_ms.append((time.perf_counter() - start) * 1000)
        ray = np.concatenate([invert_T(T)[:3, 3], target - eye]).astype(np.float32)[None]
        start = time.perf_counter()
        bare.cast_rays(o3d.core.Tensor(ray))
        bare_ms.append((time.perf_counter() - start) * 1000)
        if anchor.part_id == part.id:
            errors.append(np.linalg.norm(anchor.hit.point_section - target))
        else:
            errors.append(np.inf)
    e = np.asarray(errors) * 1000
    print(f"{len(e)} taps on parts at 1-4 m, 640x480 with distortion:")
    print(f"  anchored on the right part: {np.isfinite(e).mean():.3f}")
    print(
        f"  point error: median {np.median(e):.4f} mm, p99 {np.quantile(e, 0.99):.4f} mm,"
        f" max {e[np.isfinite(e)].max():.4f} mm"
        " (target < 1 mm)"
    )
    tap, base = statistics.median(tap_ms), statistics.median(bare_ms)
    print(
        f"  time per tap: median {tap:.3f} ms (target <= 5 ms);"
        f" bare Open3D cast of one ray {base:.3f} ms; ratio {tap / base:.1f}"
    )
    T = look_at_T_cam_world([3.0, -2.0, 3.0], [3.0, 1.5, 0.3], [0, 0, 1])
    uv = np.stack([np.linspace(50, 590, 200), np.linspace(100, 380, 200)], axis=1)
    start = time.perf_counter()
    anchoring.stroke_pixels(uv, camera, T)
    stroke_ms = (time.perf_counter() - start) * 1000
    print(f"  200-sample stroke: {stroke_ms:.2f} ms ({stroke_ms / 200:.3f} ms per sample)")


if __name__ == "__main__":
    main()
