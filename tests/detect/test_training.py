"""Training and export (needs the ``train`` extra: PyTorch and onnx)."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from arinspect.detect.network import STRIDES, DetectorNet, ExportWrapper, cell_centres  # noqa: E402
from arinspect.detect.runtime import PartDetector, letterbox  # noqa: E402
from arinspect.detect.training import (  # noqa: E402
    AugmentedFrames,
    TrainConfig,
    assign_targets,
    augment,
    detection_loss,
    export_onnx,
    pad_targets,
)

CLASSES = ["collar_plate", "pipe_clamp"]


def test_small_box_is_assigned_on_stride_8_cells_near_its_centre():
    centres = cell_centres(64, 64, 8)
    target = torch.tensor([[1, 20.0, 20.0, 36.0, 30.0, 0.0]])
    index, ignored = assign_targets(target, centres, 8, (0.0, 80.0))
    positives = centres[index >= 0]
    assert len(positives) > 0
    assert ((positives - torch.tensor([28.0, 25.0])).abs() <= 12.0).all()
    assert not ignored.any()
    # Out of the level's size range: no positives.
    index, _ = assign_targets(target, cell_centres(64, 64, 32), 32, (96.0, 1e9))
    assert (index < 0).all()


def test_ignored_box_makes_its_cells_neither_positive_nor_negative():
    centres = cell_centres(64, 64, 8)
    target = torch.tensor([[0, 8.0, 8.0, 40.0, 40.0, 1.0]])
    index, ignored = assign_targets(target, centres, 8, (0.0, 80.0))
    assert (index < 0).all()
    inside = (centres >= 8).all(dim=1) & (centres <= 40).all(dim=1)
    assert torch.equal(ignored, inside)


def test_overlapping_boxes_give_a_cell_to_the_smaller_one():
    centres = torch.tensor([[24.0, 24.0]])
    targets = torch.tensor([[0, 0.0, 0.0, 48.0, 48.0, 0.0], [1, 16.0, 16.0, 32.0, 32.0, 0.0]])
    index, _ = assign_targets(targets, centres, 8, (0.0, 80.0))
    assert index.tolist() == [1]


def test_a_padded_batch_is_assigned_like_its_images_one_by_one():
    centres = cell_centres(64, 96, 8)
    images = [
        torch.tensor([[0, 20.0, 20.0, 36.0, 30.0, 0.0], [1, 40.0, 8.0, 90.0, 60.0, 0.0]]),
        torch.zeros((0, 6)),
        torch.tensor([[1, 8.0, 8.0, 40.0, 40.0, 1.0]]),
    ]
    rows, valid = pad_targets(images)
    assert rows.shape == (3, 2, 6) and valid.tolist() == [
        [True, True],
        [False, False],
        [True, False],
    ]
    batch_index, batch_ignored = assign_targets(rows, centres, 8, (0.0, 80.0), valid)
    for i, target in enumerate(images):
        index, ignored = assign_targets(target, centres, 8, (0.0, 80.0))
        assert torch.equal(batch_index[i], index) and torch.equal(batch_ignored[i], ignored)
    assert (batch_index[0] >= 0).any() and (batch_index[1] < 0).all() and batch_ignored[2].any()


class _Frames:
    """Stand-in for `SyntheticBoxes`: grey frames with one box each."""

    def __len__(self):
        return 4

    def load(self, i):
        image = np.full((96, 128, 3), 40 * i, np.uint8)
        return image, np.array([[0, 10.0 + i, 10.0, 60.0, 50.0, 1.0]], np.float32)


def test_augmented_frames_depend_on_their_place_in_the_run_only():
    config = TrainConfig(crop_hw=(64, 96), seed=7)
    frames = AugmentedFrames(_Frames(), config, np.array([2, 0, 3, 1, 2]))
    first = [frames[k] for k in range(len(frames))]
    again = [frames[k] for k in reversed(range(len(frames)))][::-1]
    for (image_a, target_a), (image_b, target_b) in zip(first, again, strict=True):
        assert torch.equal(image_a, image_b) and torch.equal(target_a, target_b)
    # The same frame at two places in the run gets two different augmentations.
    assert not torch.equal(first[0][0], first[4][0])


def test_augment_keeps_boxes_on_the_same_pixels():
    image = np.zeros((384, 512, 3), np.uint8)
    image[100:140, 200:260] = 255
    rows = np.array([[0, 200, 100, 260, 140, 1.0]], np.float32)
    config = TrainConfig(crop_hw=(128, 160), scale_range=(1.0, 1.0))
    rng = np.random.default_rng(3)
    for _ in range(5):
        crop, targets = augment(image, rows, config, rng)
        assert crop.shape == (3, 128, 160)
        if len(targets) and targets[0, 5] == 0:
            x0, y0, x1, y1 = (int(round(v)) for v in targets[0, 1:5])
            patch = crop[:, y0:y1, x0:x1]
            assert patch.mean() > 0.5 * crop.max()


def test_loss_falls_when_overfitting_one_batch():
    torch.manual_seed(0)
    net = DetectorNet(len(CLASSES))
    images = torch.zeros(2, 3, 128, 128)
    images[0, :, 32:64, 40:80] = 1.0
    images[1, 0, 70:120, 10:40] = 1.0
    targets = [
        torch.tensor([[0, 40.0, 32.0, 80.0, 64.0, 0.0]]),
        torch.tensor([[1, 10.0, 70.0, 40.0, 120.0, 0.0]]),
    ]
    optimiser = torch.optim.AdamW(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss, parts = detection_loss(net(images), targets, len(CLASSES))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert parts["positives"] > 0
    assert losses[-1] < 0.5 * losses[0]


def test_exported_model_runs_in_onnxruntime_like_pytorch(tmp_path):
    torch.manual_seed(0)
    net = DetectorNet(len(CLASSES)).eval()
    input_hw = (96, 128)
    path = export_onnx(net, tmp_path / "m.onnx", CLASSES, input_hw, {"recipe": "test"})
    detector = PartDetector(path, threads=1, score_threshold=0.0, max_detections=10_000)
    assert detector.classes == CLASSES and detector.input_hw == input_hw
    assert json.loads(detector.metadata["classes"]) == CLASSES
    image = (np.random.default_rng(0).random((96, 128, 3)) * 255).astype(np.uint8)
    blob, _ = letterbox(image, input_hw)
    onnx_rows = detector.session.run(None, {"image": blob})[0]
    with torch.no_grad():
        torch_rows = ExportWrapper(net, input_hw)(torch.from_numpy(blob)).numpy()
    cells = sum((96 // s) * (128 // s) for s in STRIDES)
    assert onnx_rows.shape == (1, cells, 4 + len(CLASSES))
    np.testing.assert_allclose(onnx_rows, torch_rows, rtol=1e-3, atol=1e-3)


def test_fine_tuning_starts_from_the_given_weights(tmp_path):
    from arinspect.cad.catalog import load_catalog
    from arinspect.detect.synthetic import DatasetSpec, write_dataset
    from arinspect.detect.training import save_checkpoint, train_detector

    spec = DatasetSpec(
        section_seeds=(31,), frames_per_section=2, image_size_wh=(256, 192), focal_px=240.0, seed=4
    )
    write_dataset(spec, tmp_path / "data")
    classes = list(load_catalog().classes)
    config = TrainConfig(epochs=1, batch_size=2, crop_hw=(128, 160), warmup_steps=1, threads=1)
    stage1 = train_detector(tmp_path / "data", classes, config)
    weights = save_checkpoint(stage1, tmp_path / "stage1.pt")
    frozen = TrainConfig(**{**config.__dict__, "learning_rate": 0.0, "seed": 7})
    tuned = train_detector(tmp_path / "data", classes, frozen, initial_weights=weights)
    fresh = train_detector(tmp_path / "data", classes, frozen)
    for (name, a), b in zip(stage1.named_parameters(), tuned.parameters(), strict=True):
        assert torch.equal(a, b), name  # learning rate 0: the loaded weights, unchanged
    pairs = zip(stage1.parameters(), fresh.parameters(), strict=True)
    assert not all(torch.equal(a, c) for a, c in pairs)


@pytest.mark.parametrize(("stage", "weights"), [(2, None), (1, "w.pt"), (0, None), (9, "w.pt")])
def test_build_refuses_an_impossible_start(tmp_path, stage, weights):
    from arinspect.detect.build import build_detector
    from arinspect.errors import ConfigError

    with pytest.raises(ConfigError, match="start at stage 1 without weights"):
        build_detector(tmp_path / "out", tmp_path / "work", start_stage=stage,
                       start_weights=weights)  # fmt: skip
    assert not (tmp_path / "work").exists()  # refused before rendering anything


def test_a_dataset_is_reused_only_for_the_recipe_it_was_rendered_from(tmp_path):
    from dataclasses import asdict, replace

    from arinspect.detect.build import _holds
    from arinspect.detect.recipe import TRAIN_SPEC

    recipe = asdict(TRAIN_SPEC)
    (tmp_path / "annotations.json").write_text(json.dumps({"recipe": recipe, "images": []}))
    assert _holds(tmp_path, TRAIN_SPEC)
    assert not _holds(tmp_path, replace(TRAIN_SPEC, seed=TRAIN_SPEC.seed + 1))
    assert not _holds(tmp_path, replace(TRAIN_SPEC, frames_per_section=1))
    assert not _holds(tmp_path / "elsewhere", TRAIN_SPEC)


@pytest.mark.parametrize("command", ["rescore_detector", "requantize_detector"])
def test_rescoring_and_requantising_need_a_readable_card(tmp_path, command):
    from arinspect.detect import build
    from arinspect.errors import DataFormatError

    redo = getattr(build, command)
    with pytest.raises(DataFormatError, match="model_card.json: cannot read the model card"):
        redo(tmp_path, tmp_path / "work")
    (tmp_path / "model_card.json").write_text("{broken")
    with pytest.raises(DataFormatError, match="cannot read the model card"):
        redo(tmp_path, tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_the_bundled_model_was_quantised_from_the_float_one_as_the_recipe_says():
    """Change `QuantizationSpec` or the calibration, then run `arinspect detector quantize`."""
    from dataclasses import asdict

    from arinspect.detect.build import FLOAT_MODEL_FILE
    from arinspect.detect.quantize import QuantizationSpec
    from arinspect.detect.recipe import (
        CALIBRATION_SECTION_SEEDS,
        CALIBRATION_STEP,
        DEPLOY_INPUT_HW,
    )
    from arinspect.resources import DETECTOR_MODEL

    card = json.loads((DETECTOR_MODEL.parent / "model_card.json").read_text())
    spec = json.loads(json.dumps(asdict(QuantizationSpec())))
    assert {k: card["quantization"][k] for k in spec} == spec
    assert card["quantization"]["calibration_section_seeds"] == list(CALIBRATION_SECTION_SEEDS)
    assert card["quantization"]["calibration_step"] == CALIBRATION_STEP
    assert card["float_model"] == FLOAT_MODEL_FILE
    int8, float_model = (
        PartDetector(DETECTOR_MODEL),
        PartDetector(DETECTOR_MODEL.parent / FLOAT_MODEL_FILE),
    )
    assert int8.input_hw == float_model.input_hw == DEPLOY_INPUT_HW == tuple(card["input_hw"])
    assert int8.classes == float_model.classes == card["classes"]
    assert json.loads(int8.metadata["quantization"])["reduce_range"] == spec["reduce_range"]


def test_the_bundled_card_was_scored_with_the_runtimes_decoding():
    """Change the runtime's NMS or voting, then run `arinspect detector rescore`."""
    import inspect

    from arinspect.detect.runtime import PartDetector
    from arinspect.resources import DETECTOR_MODEL

    card = json.loads((DETECTOR_MODEL.parent / "model_card.json").read_text())
    defaults = inspect.signature(PartDetector).parameters
    assert card["decoding"] == {
        "nms_iou": defaults["nms_iou"].default,
        "vote_iou": defaults["vote_iou"].default,
    }
