"""``arinspect replay``: play a recording as a headset would, against a sync server.

Tracks and inspects the recording frame by frame with the bundled detector, performs the
scripted taps, pointing rays, ink strokes and voice commands (``--script``, format in
docs/replay.md) through the offline queue, cuts the network for the scripted offline
stretches, uploads the report as a run and prints what happened.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from arinspect.cli.recording_args import add_detector_arguments, add_recording_arguments

if TYPE_CHECKING:
    from arinspect.client.replay import ReplaySummary


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``replay`` verb."""
    parser = subparsers.add_parser(
        "replay",
        help="simulate a headset: track, inspect, annotate by script and sync with a server",
    )
    add_recording_arguments(parser)
    parser.add_argument("--server", required=True, help="sync server URL, e.g. http://host:8765")
    parser.add_argument("--token", required=True, help="bearer token (arinspect token create)")
    parser.add_argument("--script", type=Path, help="replay script, JSON (docs/replay.md)")
    parser.add_argument(
        "--section-id", help="the section's id on the server (default: the section's name)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out/replay"), help="folder for report.json"
    )
    parser.add_argument(
        "--state", type=Path, help="offline queue folder (default: OUT/queue; kept between runs)"
    )
    add_detector_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the script and the recording, replay it, print the summary."""
    import json

    from arinspect.cad.section import load_section
    from arinspect.cli.progress import frame_progress
    from arinspect.client.link import switchable_client
    from arinspect.client.replay import replay
    from arinspect.client.replay_script import ReplayScript, load_script
    from arinspect.client.sync import SyncClient
    from arinspect.detect.runtime import PartDetector
    from arinspect.inspection.pipeline import Inspector
    from arinspect.recording.bop import Recording

    script = load_script(args.script) if args.script else ReplayScript(None)
    recording = Recording(args.recording)
    section_dir, camera = recording.inputs(args.section, args.camera)
    section = load_section(section_dir)
    detector = PartDetector(args.model, threads=args.threads)
    inspector = Inspector(section, camera, detector)
    http, link = switchable_client(args.server)
    try:
        client = SyncClient(args.server, args.token, args.state or args.out / "queue", http=http)
        summary = replay(
            recording,
            inspector,
            client,
            link,
            args.section_id or section.name,
            script,
            detector_name=str(detector.model_path),
            out_dir=args.out,
            progress=frame_progress("replaying"),
        )
    finally:
        http.close()
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(summary_text(summary))
    return 0


def summary_text(summary: ReplaySummary) -> str:
    """The per-run summary as people read it."""
    statuses = ", ".join(
        f"{summary.pose_status.get(s, 0)} {s}" for s in ("tracked", "reinitialised", "lost")
    )
    run = f"run {summary.run_id}" if summary.run_id else "run not uploaded"
    lines = [
        f"replayed {summary.frames} frames in {summary.wall_s:.1f} s"
        f" ({summary.frames_per_s:.2f} frames/s): {statuses}",
        f"findings pushed: {summary.findings_pushed} ({run})",
        f"annotations created: {len(summary.annotations)}, updated: {summary.updates},"
        f" attachments: {summary.attachments}",
    ]
    for step in summary.steps:
        lines.append(
            f"  frame {step.frame:>4}  {step.action:<6}  {step.result:<14}"
            f" {step.part_id or '-':<12} {step.detail}".rstrip()
        )
    voice = summary.voice_results()
    if voice:
        lines.append("voice: " + ", ".join(f"{k} {v}" for k, v in sorted(voice.items())))
    lines.append(
        f"offline queue: max depth {summary.max_queue_depth}, drained {summary.drained_ops} ops,"
        f" rejected {summary.rejected_ops}, still queued {summary.pending_ops}"
    )
    if summary.report_path:
        lines.append(f"report: {summary.report_path}")
    return "\n".join(lines)
