"""Scripted voice commands of a replay: recognised offline, turned into annotation changes.

The headset keeps a selected part (the last part tapped or pointed at, or stepped to with
"next part" / "previous part" through the parts in view, in section order) and at most one
pending action. "mark missing / misplaced / damaged" and "add note" make the pending
action for the selected part; "confirm" sends it, "cancel" drops it; a new one replaces
it. A confirmed mark creates a ``defect`` annotation labelled with the status, or, when
this headset already marked the part, changes that annotation's label and title (a
status change through the server); a confirmed note creates a ``voice`` annotation with
the utterance as its voice attachment. A rejected utterance sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arinspect.annotate.gesture import GestureAnchoring, SurfaceHit
from arinspect.annotate.voice import VoiceAction, VoiceCommandRecognizer, action_for, read_wav
from arinspect.client.replay_annotator import Annotator, StepOutcome, TrackedFrame
from arinspect.client.replay_script import Step
from arinspect.inspection.expected import ExpectedView, ExpectedViewer
from arinspect.typed import FloatArray

MIN_SELECTABLE_PX = 300.0
"""Visible pixels (full resolution) a part needs to be stepped to by next/previous part."""
CANDIDATE_PIXELS = 8
"""Pixels near a part's visible centre tried when anchoring a stepped-to part."""


@dataclass(frozen=True)
class Selection:
    """The selected part and where it was anchored (a hit on the part)."""

    part_id: str
    hit: SurfaceHit


@dataclass(frozen=True)
class Pending:
    """An action waiting for "confirm": what, on which part, seen from which frame."""

    action: VoiceAction
    selection: Selection
    frame: TrackedFrame
    wav: Path


class VoiceSteps:
    """Recognises scripted utterances and applies the commands to the selected part.

    Args:
        annotator: Where annotations go.
        anchoring: Ray casting (to anchor a part stepped to).
        viewer: Expected views (which parts are in view).
        recognizer: The recogniser (default: built on the first voice step).
    """

    def __init__(
        self,
        annotator: Annotator,
        anchoring: GestureAnchoring,
        viewer: ExpectedViewer,
        recognizer: VoiceCommandRecognizer | None = None,
    ) -> None:
        self.annotator = annotator
        self.anchoring = anchoring
        self.viewer = viewer
        self._recognizer = recognizer
        self._labels = viewer.scene.label_by_id()
        self._order = [part.id for part in annotator.section.parts]
        self.selection: Selection | None = None
        self.pending: Pending | None = None
        self._marked: dict[str, str] = {}  # part id -> defect annotation id

    def select(self, hit: SurfaceHit) -> None:
        """Make the part hit by a tap or pointing ray the selected part."""
        self.selection = Selection(hit.element_id, hit)

    def run(self, step: Step, frame: TrackedFrame) -> StepOutcome:
        """Recognise one utterance and act on it."""
        if step.wav is None:
            raise ValueError(f"{step.where} is not a voice step")
        if self._recognizer is None:
            self._recognizer = VoiceCommandRecognizer()
        result = self._recognizer.recognize(read_wav(step.wav))
        heard = {
            "wav": str(step.wav),
            "command": result.command,
            "transcript": result.transcript,
            "confidence": round(result.confidence, 3),
        }
        if result.command is None:
            detail = f"heard {result.transcript or 'nothing in the grammar'!r}; nothing sent"
            return StepOutcome(frame.index, "voice", "rejected", detail, voice=heard)
        action = action_for(result.command)
        outcome = self._act(action, step.wav, frame)
        return StepOutcome(
            frame.index,
            "voice",
            outcome.result,
            f"{result.command!r}: {outcome.detail}",
            outcome.part_id,
            outcome.annotation_ids,
            heard,
        )

    def finish(self, frame_index: int) -> StepOutcome | None:
        """At the end of the replay: an unconfirmed pending action is dropped and reported."""
        if self.pending is None:
            return None
        pending, self.pending = self.pending, None
        return StepOutcome(
            frame_index,
            "voice",
            "unconfirmed",
            f"{_describe(pending.action)} never confirmed; nothing sent",
            pending.selection.part_id,
        )

    def _act(self, action: VoiceAction, wav: Path, frame: TrackedFrame) -> StepOutcome:
        if action.name in ("next_part", "previous_part"):
            return self._step_selection(frame, +1 if action.name == "next_part" else -1)
        if action.name == "confirm":
            return self._confirm(frame)
        if action.name == "cancel":
            if self.pending is None:
                return StepOutcome(frame.index, "voice", "nothing_pending")
            dropped, self.pending = self.pending, None
            part_id = dropped.selection.part_id
            detail = f"{_describe(dropped.action)} dropped"
            return StepOutcome(frame.index, "voice", "cancelled", detail, part_id)
        if self.selection is None:
            return StepOutcome(frame.index, "voice", "no_selection", "no part selected")
        if frame.T_cam_section is None:
            return StepOutcome(frame.index, "voice", "no_pose", frame.pose_status)
        replaced = "" if self.pending is None else f" (replaces {_describe(self.pending.action)})"
        self.pending = Pending(action, self.selection, frame, wav)
        detail = f"{_describe(action)} on {self.selection.part_id} awaits confirm{replaced}"
        return StepOutcome(frame.index, "voice", "pending", detail, self.selection.part_id)

    def _confirm(self, frame: TrackedFrame) -> StepOutcome:
        if self.pending is None:
            return StepOutcome(frame.index, "voice", "nothing_pending")
        pending, self.pending = self.pending, None
        part_id, hit = pending.selection.part_id, pending.selection.hit
        if pending.action.name == "add_note":
            annotation_id = self.annotator.create(
                pending.frame,
                hit,
                "voice",
                f"voice note on {part_id}",
                voice_wav=pending.wav.read_bytes(),
            )
            return StepOutcome(
                frame.index, "voice", "sent", "voice note", part_id, (annotation_id,)
            )
        status = pending.action.status or ""
        title = f"{part_id} {status}"
        if part_id in self._marked:
            annotation_id = self._marked[part_id]
            self.annotator.update(
                annotation_id, title=title, labels=[status], description=f"marked {status} by voice"
            )
            return StepOutcome(
                frame.index, "voice", "updated", f"marked {status}", part_id, (annotation_id,)
            )
        annotation_id = self.annotator.create(
            pending.frame,
            hit,
            "defect",
            title,
            description=f"marked {status} by voice",
            labels=(status,),
        )
        self._marked[part_id] = annotation_id
        return StepOutcome(
            frame.index, "voice", "sent", f"marked {status}", part_id, (annotation_id,)
        )

    def _step_selection(self, frame: TrackedFrame, direction: int) -> StepOutcome:
        if frame.T_cam_section is None:
            return StepOutcome(frame.index, "voice", "no_pose", frame.pose_status)
        view = self.viewer.view(frame.T_cam_section)
        in_view = [
            part_id
            for part_id in self._order
            if part_id in view.parts and view.parts[part_id].visible_px >= MIN_SELECTABLE_PX
        ]
        current = self.selection.part_id if self.selection else None
        if current in in_view:
            start = in_view.index(current) + direction
        else:
            start = 0 if direction > 0 else len(in_view) - 1
        for k in range(len(in_view)):
            part_id = in_view[(start + direction * k) % len(in_view)]
            hit = self._anchor_in_view(view, part_id, frame.T_cam_section)
            if hit is not None:
                self.selection = Selection(part_id, hit)
                detail = f"{len(in_view)} parts in view"
                return StepOutcome(frame.index, "voice", "selected", detail, part_id)
        return StepOutcome(frame.index, "voice", "no_part_in_view")

    def _anchor_in_view(
        self, view: ExpectedView, part_id: str, T_cam_section: FloatArray
    ) -> SurfaceHit | None:
        """A hit on the part through pixels near its visible centre, or None."""
        rows, cols = np.nonzero(view.label_map == self._labels[part_id])
        if rows.size == 0:
            return None
        spread = (rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2
        nearest = np.argsort(spread)[:CANDIDATE_PIXELS]
        camera = self.annotator.camera
        full_rows, full_cols = view.full_res_pixels(
            rows[nearest], cols[nearest], (camera.height, camera.width)
        )
        for row, col in zip(full_rows, full_cols, strict=True):
            anchor = self.anchoring.tap(float(col), float(row), camera, T_cam_section, True)
            if anchor.part_id == part_id:
                return anchor.hit
        return None


def _describe(action: VoiceAction) -> str:
    return f"mark {action.status}" if action.status else action.name.replace("_", " ")
