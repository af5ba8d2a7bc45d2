"""The bundled detector's recipe: which sections train it, which are held out, and how it is scored.

Training sections use seeds 1000-1239; held-out evaluation uses seeds from 90001 on,
which no training run ever sees (the bundled sample section is seed 2, also unseen).
Held-out recordings are rendered by the same recorder as inspection recordings
(walk-past and orbit, 640x480, f = 600 px, sensor noise and motion blur), so the scores
say how the detector does on what inspection feeds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from arinspect.cad.generator import generate_section
from arinspect.detect.boxes import part_boxes
from arinspect.detect.evaluation import Evaluation, FrameResult, evaluate, is_scored
from arinspect.detect.runtime import PartDetector
from arinspect.detect.synthetic import DatasetSpec
from arinspect.errors import DataFormatError
from arinspect.recording.bop import Recording
from arinspect.recording.synthesize import RecordingSpec, render_recording
from arinspect.render.renderer import RenderOptions
from arinspect.render.scene import Label
from arinspect.typed import UInt8Image

TRAIN_SPEC = DatasetSpec(section_seeds=tuple(range(1000, 1240)), frames_per_section=25, seed=0)
FINE_TUNE_CYCLES: tuple[tuple[int, float], ...] = ((5, 5e-4),)
"""Training stages after the main one: (epochs, peak learning rate) of shorter cosine
cycles, each from the weights of the stage before (the loss is still falling when the
main cycle's rate reaches its floor)."""
DEPLOY_INPUT_HW = (480, 640)
"""The bundled model's input, (height, width): the headset's 640x480 frames at full
resolution. The net is trained on 512x384 renders (f = 480 px) rescaled by 0.6-1.5, so at
f = 600 px its parts are 1.25x the size of the training renders', inside that range; the
same weights, in float, scored held-out mAP@0.5 0.890 at 512x384 and 0.912 here
(docs/detector.md)."""
HELD_OUT_SECTION_SEEDS = (90001, 90002, 90003, 90004)
HELD_OUT_FRAMES = 16
HELD_OUT_OPTIONS = RenderOptions(noise_sigma=3.0, motion_blur_px=3.0)
CALIBRATION_SECTION_SEEDS = (1000, 1001, 1002)
"""Sections whose recordings calibrate the int8 quantisation: training sections, so that no
held-out section informs the model (`arinspect.detect.quantize`)."""
CALIBRATION_STEP = 2
"""Every this many frames of the calibration recordings are used (48 frames)."""


def render_held_out(
    work_dir: str | Path, seeds: Sequence[int] = HELD_OUT_SECTION_SEEDS
) -> list[Path]:
    """Generate the held-out sections and render a walk-past and an orbit of each (cached).

    Returns:
        The recording folders.
    """
    return _render_walks_and_orbits(Path(work_dir), seeds)


def calibration_frames(work_dir: str | Path) -> list[UInt8Image]:
    """BGR frames of walk-pasts and orbits of `CALIBRATION_SECTION_SEEDS` (rendered, cached).

    Rendered like the held-out recordings (what inspection feeds the detector).
    """
    frames = []
    for folder in _render_walks_and_orbits(Path(work_dir), CALIBRATION_SECTION_SEEDS):
        recording = Recording(folder)
        frames += [recording.bgr(i) for i in recording.frame_ids[::CALIBRATION_STEP]]
    return frames


def _render_walks_and_orbits(work_dir: Path, seeds: Sequence[int]) -> list[Path]:
    """Generate sections `seeds` and render a walk-past and an orbit of each (cached)."""
    recordings = []
    for seed in seeds:
        section_dir = work_dir / f"section-{seed}"
        if not (section_dir / "section.json").is_file():
            generate_section(seed, section_dir)
        for trajectory in ("walk", "orbit"):
            out = work_dir / f"rec-{seed}-{trajectory}"
            if not (out / "recording.json").is_file():
                spec = RecordingSpec(
                    frames=HELD_OUT_FRAMES,
                    seed=seed,
                    trajectory=trajectory,
                    options=HELD_OUT_OPTIONS,
                )
                render_recording(section_dir, out, spec)
            recordings.append(out)
    return recordings


def recording_labels(recording: Recording) -> list[Label]:
    """The label table stored in a synthetic recording's ``recording.json``."""
    try:
        return [
            Label(int(e["index"]), e["kind"], e["id"], e["class"]) for e in recording.meta["labels"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataFormatError(
            recording.folder, f"recording.json has no usable labels ({exc})"
        ) from exc


def evaluate_on_recordings(
    detector: PartDetector,
    recordings: Sequence[str | Path],
    progress: Callable[[int, int], None] | None = None,
    stage_times_s: dict[str, float] | None = None,
) -> Evaluation:
    """Run `detector` on every frame of recordings with label maps and score it."""
    frames = []
    opened = [Recording(path) for path in recordings]
    total = sum(len(r.frame_ids) for r in opened)
    for recording in opened:
        labels = recording_labels(recording)
        for im_id in recording.frame_ids:
            label_map = recording.label_map(im_id)
            if label_map is None:
                raise DataFormatError(recording.folder, f"frame {im_id} has no label map")
            truth = part_boxes(label_map, labels)
            height = label_map.shape[0]
            detections = detector.detect(recording.bgr(im_id), stage_times_s)
            frames.append(FrameResult(detections, truth, [is_scored(b, height) for b in truth]))
            if progress:
                progress(len(frames), total)
    return evaluate(frames, detector.classes)
