"""``arinspect demo``: the main job on the bundled sample section.

Renders a walk-past recording (colour and depth) of the sample section with seeded
defects (parts removed, parts moved along their mounting surface, chosen among the parts
the walk shows well), inspects it as ``arinspect inspect`` does (pose, detector,
matching, fusion), prints the findings and where the report is, and checks the seeded
defects against the findings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

DEMO_SEED = 7
DEMO_FRAMES = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``demo`` verb."""
    from arinspect.resources import SAMPLE_SECTION_DIR

    parser = subparsers.add_parser("demo", help="run the main job on the bundled sample section")
    parser.add_argument(
        "--section",
        type=Path,
        default=SAMPLE_SECTION_DIR,
        help="section folder (default: bundled sample)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/demo"), help="output folder (default out/demo)"
    )
    parser.add_argument(
        "--frames", type=int, default=DEMO_FRAMES, help=f"frames to render (default {DEMO_FRAMES})"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Render the demo recording, inspect it, print the findings against the truth."""
    import numpy as np

    from arinspect.cad.section import load_section
    from arinspect.camera import default_camera
    from arinspect.cli.inspection_summary import inspect_and_report
    from arinspect.cli.progress import frame_progress
    from arinspect.recording.defects import pick_defects, well_seen_parts
    from arinspect.recording.synthesize import RecordingSpec, render_recording
    from arinspect.recording.trajectory import make_trajectory
    from arinspect.render.renderer import RenderOptions

    section = load_section(args.section)
    n_control = sum(m.control for m in section.markers)
    print(f"section {section.name}: {section.description}")
    print(f"  {len(section.parts)} parts, {len(section.markers)} markers ({n_control} control)")
    poses = make_trajectory("walk", section, args.frames, np.random.default_rng(DEMO_SEED))
    candidates = well_seen_parts(section, default_camera(), poses)
    defects = pick_defects(
        section, candidates, 2, 2, (0.05, 0.12), np.random.default_rng(DEMO_SEED)
    )
    moves = ", ".join(f"{k} by {np.linalg.norm(d) * 100:.0f} cm" for k, d in defects.moved.items())
    print(f"  seeded defects: removed {', '.join(defects.removed)}; moved {moves}")
    spec = RecordingSpec(
        frames=args.frames,
        seed=DEMO_SEED,
        trajectory="walk",
        depth=True,
        removed=defects.removed,
        moved=defects.moved,
        options=RenderOptions(noise_sigma=1.5, depth_noise_m=0.002),
    )
    folder = args.out / "recording"
    start = time.perf_counter()
    render_recording(args.section, folder, spec, progress=frame_progress("rendering", "  "))
    elapsed = time.perf_counter() - start
    print(f"  rendered {args.frames} frames in {elapsed:.1f} s (walk-past with depth)")
    result = inspect_and_report([folder], args.out / "report", indent="  ")
    found = {f.part_id: f.status for f in result.findings}
    truth = [(p, "missing") for p in defects.removed] + [(p, "misplaced") for p in defects.moved]
    hits = sum(found.get(p) == status for p, status in truth)
    print(f"  seeded defects found: {hits} of {len(truth)}")
    print(f"recording (BOP layout, truth in recording.json): {folder.resolve()}")
    return 0
