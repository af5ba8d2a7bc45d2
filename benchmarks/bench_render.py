"""Benchmark: time to render one 640x480 frame (colour + depth + labels) of the sample section.

Prints the median per stage over a walk-past, and the ratio of each to a baseline measured
in the same run: a bare Open3D cast of the same 640x480 pinhole rays into the same scene
(depth and geometry ids only, no shading). Run: python benchmarks/bench_render.py
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import open3d as o3d

from arinspect.cad.section import load_section
from arinspect.camera import default_camera
from arinspect.recording.trajectory import walk
from arinspect.render.renderer import RenderOptions, render
from arinspect.render.scene import SectionScene
from arinspect.resources import SAMPLE_SECTION_DIR


def bare_cast_s(scene: SectionScene, camera, T_cam_section) -> float:
    rays = o3d.t.geometry.RaycastingScene.create_rays_pinhole(
        o3d.core.Tensor(camera.K), o3d.core.Tensor(T_cam_section), camera.width, camera.height
    )
    start = time.perf_counter()
    scene._scene.cast_rays(rays)  # the baseline: Open3D alone
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=10)
    args = parser.parse_args()
    section = load_section(SAMPLE_SECTION_DIR)
    start = time.perf_counter()
    scene = SectionScene(section)
    build_s = time.perf_counter() - start
    camera = default_camera()
    poses = walk(section, args.frames, np.random.default_rng(0))
    render(scene, camera, poses[0])  # warm-up: ray tables, marker textures
    configs = {
        "full (shadows, 3x3 AA, noise)": RenderOptions(noise_sigma=1.5),
        "no shadows": RenderOptions(noise_sigma=1.5, shadows=False),
        "no anti-aliasing": RenderOptions(noise_sigma=1.5, supersample=1),
    }
    baseline = statistics.median(bare_cast_s(scene, camera, T) for T in poses)
    n_tri = sum(len(section.mesh(e).faces) for e in section.elements())
    print(f"sample section: {len(section.parts)} parts, {n_tri} triangles")
    print(f"scene build (once per section): {build_s * 1000:.0f} ms")
    print(f"baseline, bare Open3D cast of 640x480 rays: {baseline * 1000:.1f} ms/frame (1.00x)")
    for name, options in configs.items():
        stages: list[dict[str, float]] = []
        totals = []
        for T in poses:
            times: dict[str, float] = {}
            t0 = time.perf_counter()
            render(scene, camera, T, options, np.random.default_rng(1), times)
            totals.append(time.perf_counter() - t0)
            stages.append(times)
        total = statistics.median(totals)
        print(f"\n{name}: {total * 1000:.1f} ms/frame ({total / baseline:.2f}x baseline)")
        for stage in stages[0]:
            median = statistics.median(s[stage] for s in stages)
            print(f"  {stage:<12} {median * 1000:7.1f} ms  ({median / baseline:.2f}x)")


if __name__ == "__main__":
    main()
