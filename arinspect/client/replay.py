"""A headset simulator: play a recording as a worker's headset would, against a sync server.

Frame by frame the inspection tracks ``T_cam_section`` and gathers evidence
(`arinspect.inspection.pipeline.Inspector`); after each frame the scripted gestures and
voice commands of that frame are performed with its tracked pose and their annotations
go through `SyncClient`'s offline queue. During a scripted offline stretch the link is
cut (`arinspect.client.link.SwitchableTransport`): writes stay in the queue on disk, and
when the link is back the queue drains (each op applied once: the server deduplicates by
op id). At the end the inspection's ``report.json`` is uploaded as a run, whose parts
that are not ``present`` become the server's findings. Script format: docs/replay.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from arinspect.annotate.gesture import GestureAnchoring
from arinspect.annotate.voice import VoiceCommandRecognizer
from arinspect.atomic_write import write_atomic
from arinspect.client.link import SwitchableTransport
from arinspect.client.replay_annotator import Annotator, StepOutcome, TrackedFrame
from arinspect.client.replay_gestures import GestureSteps
from arinspect.client.replay_script import ReplayScript
from arinspect.client.replay_voice import VoiceSteps
from arinspect.client.sync import SyncClient, SyncError
from arinspect.errors import ConfigError
from arinspect.inspection.pipeline import FrameRecord, Inspector
from arinspect.inspection.report import report_document
from arinspect.recording.bop import Recording
from arinspect.typed import UInt8Image


@dataclass
class ReplaySummary:
    """What one replay did.

    Attributes:
        recording: The recording folder.
        section_id: The section on the server.
        frames: Frames played.
        pose_status: Frames per tracker status (``tracked``, ``reinitialised``, ``lost``).
        run_id: The uploaded run's id (None if the upload is still queued or refused).
        findings_pushed: Findings the server made of the run (parts not ``present``).
        annotations: ``{"id", "part_id", "kind"}`` of every annotation created.
        updates: Annotation updates sent (voice status changes).
        attachments: Snapshots and voice notes sent.
        steps: What each scripted step did, in the order performed.
        max_queue_depth: Most operations waiting in the offline queue at once.
        drained_ops: Operations sent when the link came back after an offline stretch.
        rejected_ops: Operations the server refused during this replay.
        pending_ops: Operations still queued at the end (0 unless the server is unreachable).
        wall_s: Wall time of the whole replay, seconds.
        report_path: Where report.json was written, if anywhere.
    """

    recording: str
    section_id: str
    frames: int = 0
    pose_status: dict[str, int] = field(default_factory=dict)
    run_id: str | None = None
    findings_pushed: int = 0
    annotations: list[dict[str, str]] = field(default_factory=list)
    updates: int = 0
    attachments: int = 0
    steps: list[StepOutcome] = field(default_factory=list)
    max_queue_depth: int = 0
    drained_ops: int = 0
    rejected_ops: int = 0
    pending_ops: int = 0
    wall_s: float = 0.0
    report_path: str | None = None

    @property
    def frames_per_s(self) -> float:
        """Frames played per second of wall time."""
        return self.frames / max(self.wall_s, 1e-9)

    def voice_results(self) -> dict[str, int]:
        """Voice steps per outcome (``rejected``, ``pending``, ``sent``, ...)."""
        counts: dict[str, int] = {}
        for step in self.steps:
            if step.action == "voice":
                counts[step.result] = counts.get(step.result, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``--json``)."""
        doc = asdict(self)
        doc["frames_per_s"] = round(self.frames_per_s, 2)
        doc["wall_s"] = round(self.wall_s, 2)
        doc["voice_results"] = self.voice_results()
        return doc


class _Headset:
    """Per-frame behaviour: network link per the script, then the frame's steps."""

    def __init__(
        self,
        client: SyncClient,
        link: SwitchableTransport,
        script: ReplayScript,
        gestures: GestureSteps,
        voice: VoiceSteps,
        summary: ReplaySummary,
    ) -> None:
        self.client, self.link, self.script = client, link, script
        self.gestures, self.voice, self.summary = gestures, voice, summary
        self.index = 0

    def on_frame(self, record: FrameRecord, image: UInt8Image) -> None:
        usable = record.T_cam_section is not None and record.pose_status != "lost"
        frame = TrackedFrame(
            self.index,
            record.im_id,
            image,
            record.pose_status,
            record.T_cam_section if usable else None,
        )
        self.set_online(not self.script.is_offline(self.index))
        for step in self.script.steps_at(self.index):
            if step.action == "voice":
                outcome = self.voice.run(step, frame)
            else:
                outcome, hit = self.gestures.run(step, frame)
                if hit is not None:
                    self.voice.select(hit)
            self.summary.steps.append(outcome)
            self.note_queue()
        self.index += 1

    def set_online(self, online: bool) -> None:
        """Switch the link; coming back online drains the queue."""
        if online == self.link.online:
            return
        self.link.online = online
        if online:
            report = self.client.flush()
            self.summary.drained_ops += len(report.sent)

    def note_queue(self) -> None:
        depth = len(self.client.queue.pending())
        self.summary.max_queue_depth = max(self.summary.max_queue_depth, depth)


def check_section(client: SyncClient, section_id: str) -> None:
    """Raise `ConfigError` unless the server is reachable and knows the section."""
    try:
        client.request("GET", f"/api/sections/{section_id}")
    except httpx.TransportError as exc:
        raise ConfigError(f"cannot reach the sync server at {client.base_url}: {exc}") from exc
    except SyncError as exc:
        if exc.status == 404:
            raise ConfigError(
                f"section {section_id!r} is not registered on {client.base_url}"
                " (an engineer creates it: POST /api/sections)"
            ) from exc
        raise ConfigError(f"the server refused to show section {section_id!r}: {exc}") from exc


def replay(
    recording: Recording,
    inspector: Inspector,
    client: SyncClient,
    link: SwitchableTransport,
    section_id: str,
    script: ReplayScript,
    *,
    detector_name: str = "",
    out_dir: Path | None = None,
    recognizer: VoiceCommandRecognizer | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReplaySummary:
    """Play a recording as a headset: track, inspect, perform the script, push the findings.

    Args:
        recording: The frames (BOP layout), played in order.
        inspector: Inspection of the recording's section with its camera.
        client: Connection to the server; its ``http`` must go through ``link``.
        link: The switch that cuts the network during offline stretches.
        section_id: The section's id on the server (it must exist there).
        script: Gestures, voice commands and offline stretches (may be empty).
        detector_name: Detector named in the uploaded report.
        out_dir: Folder to write report.json into (None: not written).
        recognizer: Voice recogniser (default: built at the first voice step).
        progress: Called with (frames done, frames in all).

    Raises:
        ConfigError: The server is unreachable or lacks the section.
        DataFormatError: A step names a frame beyond the recording or a pixel outside it.
    """
    started = time.perf_counter()
    script.check_against(len(recording.frame_ids), inspector.camera)
    check_section(client, section_id)
    rejected_before = len(client.queue.rejected())
    summary = ReplaySummary(str(recording.folder), section_id)
    annotator = Annotator(client, section_id, inspector.section, inspector.camera)
    anchoring = GestureAnchoring(inspector.section)
    headset = _Headset(
        client,
        link,
        script,
        GestureSteps(anchoring, annotator),
        VoiceSteps(annotator, anchoring, inspector.viewer, recognizer),
        summary,
    )
    result = inspector.inspect(recording, progress, headset.on_frame)
    headset.set_online(True)
    unconfirmed = headset.voice.finish(headset.index - 1)
    if unconfirmed is not None:
        summary.steps.append(unconfirmed)
    document = report_document(result, [recording], detector_name)
    data = json.dumps(document, indent=2).encode()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(out_dir / "report.json", data)
        summary.report_path = str(out_dir / "report.json")
    op_id = client.upload_run(section_id, data, flush=False)
    for op in client.flush().sent:
        if op.op_id == op_id and op.result is not None:
            summary.run_id = op.result["data"]["id"]
            summary.findings_pushed = int(op.result["data"]["summary"]["findings"])
    summary.frames = len(result.frames)
    for frame in result.frames:
        summary.pose_status[frame.pose_status] = summary.pose_status.get(frame.pose_status, 0) + 1
    summary.annotations = [{"id": a, "part_id": p, "kind": k} for a, p, k in annotator.created]
    summary.updates = len(annotator.updates)
    summary.attachments = len(annotator.attachments)
    summary.rejected_ops = len(client.queue.rejected()) - rejected_before
    summary.pending_ops = len(client.queue.pending())
    summary.wall_s = time.perf_counter() - started
    return summary
