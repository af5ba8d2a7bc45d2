"""Replay scripts: what a simulated headset worker does, frame by frame (``arinspect replay``).

A script is a JSON file checked against ``arinspect/schemas/replay_script.schema.json``;
`load_script` turns it into `ReplayScript` or raises `DataFormatError` naming the file
and the JSON path of the first problem (``steps[3].u``). Frames are 0-based positions in
the recording; pixels are those of the recording's frames; WAV paths are relative to
the script file. Format and example: docs/replay.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from arinspect.camera import CameraModel
from arinspect.errors import DataFormatError
from arinspect.schema_check import check_document
from arinspect.typed import FloatArray


@dataclass(frozen=True)
class Step:
    """One scripted action at a frame (the step's ``frame``; ``from_frame`` for offline).

    Attributes:
        index: Position in the script's ``steps`` (for messages: ``steps[index]``).
        action: ``tap``, ``point``, ``stroke`` or ``voice``.
        frame: 0-based frame position in the recording.
        fields: The step's JSON object as written.
        wav: For ``voice``: the WAV file, resolved against the script's folder.
    """

    index: int
    action: str
    frame: int
    fields: dict[str, Any]
    wav: Path | None = None

    @property
    def where(self) -> str:
        """The JSON path of the step, e.g. ``steps[3]``."""
        return f"steps[{self.index}]"

    @property
    def uv_px(self) -> FloatArray:
        """(N, 2) pixels of a tap (N = 1) or a stroke."""
        if self.action == "tap":
            return np.array([[self.fields["u"], self.fields["v"]]], dtype=np.float64)
        return np.asarray(self.fields["uv"], dtype=np.float64)


@dataclass(frozen=True)
class OfflineStretch:
    """Frames without network: offline from ``from_frame`` until ``to_frame`` (exclusive).

    Attributes:
        index: Position in the script's ``steps``.
        from_frame: First frame without network (before its steps).
        to_frame: Frame at which the link is back (before its steps); the queue drains.
    """

    index: int
    from_frame: int
    to_frame: int


@dataclass(frozen=True)
class ReplayScript:
    """A validated script.

    Attributes:
        path: The file it came from (None for the default, empty script).
        steps: Gestures and voice commands, in script order.
        offline: Offline stretches, by start frame (non-overlapping).
    """

    path: Path | None
    steps: tuple[Step, ...] = ()
    offline: tuple[OfflineStretch, ...] = ()

    def steps_at(self, frame: int) -> list[Step]:
        """The steps of one frame, in script order."""
        return [step for step in self.steps if step.frame == frame]

    def is_offline(self, frame: int) -> bool:
        """True while an offline stretch covers the frame."""
        return any(s.from_frame <= frame < s.to_frame for s in self.offline)

    def check_against(self, n_frames: int, camera: CameraModel) -> None:
        """Raise `DataFormatError` for a step beyond the recording or a pixel outside its frames.

        Args:
            n_frames: Frames in the recording; an offline stretch may end at ``n_frames``
                (back online after the last frame).
            camera: Intrinsics of the frames (their size in pixels).
        """
        where = self.path or Path("<script>")
        for step in self.steps:
            if step.frame >= n_frames:
                raise DataFormatError(
                    where,
                    f"frame {step.frame} is beyond the recording's {n_frames} frames (0-based)",
                    f"{step.where}.frame",
                )
            if step.action in ("tap", "stroke"):
                uv = step.uv_px
                outside = (uv[:, 0] > camera.width - 1) | (uv[:, 1] > camera.height - 1)
                if outside.any():
                    u, v = uv[int(np.argmax(outside))]
                    raise DataFormatError(
                        where,
                        f"pixel ({u:g}, {v:g}) is outside the {camera.width}x{camera.height}"
                        " frames",
                        step.where,
                    )
        for stretch in self.offline:
            if stretch.to_frame > n_frames:
                raise DataFormatError(
                    where,
                    f"to_frame {stretch.to_frame} is beyond the recording's {n_frames} frames",
                    f"steps[{stretch.index}].to_frame",
                )


def load_script(path: str | Path) -> ReplayScript:
    """Read and validate a replay script.

    Raises:
        DataFormatError: Missing or unreadable file, malformed JSON, a schema violation,
            an offline stretch that ends before it starts or overlaps another, or a WAV
            file that does not exist (the message names the file and the JSON path).
    """
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DataFormatError(path, "replay script not found") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataFormatError(path, f"not a readable JSON file ({exc})") from exc
    check_document(doc, "replay_script", path)
    steps, offline = [], []
    for index, item in enumerate(doc["steps"]):
        if item["action"] == "offline":
            offline.append(_stretch(path, index, item))
        else:
            steps.append(_step(path, index, item))
    offline.sort(key=lambda s: s.from_frame)
    for before, after in zip(offline, offline[1:], strict=False):
        if after.from_frame < before.to_frame:
            raise DataFormatError(
                path,
                f"offline stretch overlaps the one of steps[{before.index}]",
                f"steps[{after.index}]",
            )
    return ReplayScript(path, tuple(steps), tuple(offline))


def _stretch(path: Path, index: int, item: dict[str, Any]) -> OfflineStretch:
    if item["to_frame"] <= item["from_frame"]:
        raise DataFormatError(path, "to_frame must be after from_frame", f"steps[{index}].to_frame")
    return OfflineStretch(index, item["from_frame"], item["to_frame"])


def _step(path: Path, index: int, item: dict[str, Any]) -> Step:
    """A gesture or voice step, with what the schema cannot check checked."""
    wav = None
    if item["action"] == "point" and not any(item["direction_cam"]):
        raise DataFormatError(
            path, "the pointing direction is zero", f"steps[{index}].direction_cam"
        )
    if item["action"] == "voice":
        wav = (path.parent / item["wav"]).resolve()
        if not wav.is_file():
            raise DataFormatError(path, f"WAV file {wav} not found", f"steps[{index}].wav")
    return Step(index, item["action"], item["frame"], item, wav)
