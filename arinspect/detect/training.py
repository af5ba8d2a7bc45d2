"""Training the part detector on a synthetic dataset, and exporting it to ONNX.

Needs the optional ``train`` extra (PyTorch, onnx). Reproducible: every random choice is
seeded, data loading runs in the main process, and the number of threads is fixed.

Targets (anchor-free, FCOS-style with centre sampling): a grid cell is a positive for a
box when its centre lies within 1.5 strides of the box centre on a level whose scale range
holds the box's longer side; a cell claimed by several boxes takes the smallest. Class
scores learn a quality target that grows with the IoU of the predicted box (see
`detection_loss`), boxes learn GIoU. Boxes
flagged "ignore" (fragmentary, clipped by the crop, or tiny) are neither positives nor
negatives.
"""

from __future__ import annotations

import json
import logging
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from arinspect.detect.network import (
    BOX_CHANNELS,
    STRIDES,
    DetectorNet,
    ExportWrapper,
    cell_centres,
    decode_boxes,
    flatten_level,
)
from arinspect.detect.synthetic import ANNOTATIONS
from arinspect.errors import DataFormatError

log = logging.getLogger(__name__)

LEVEL_SIZE_RANGES_PX = ((0.0, 80.0), (48.0, 160.0), (96.0, 1e9))
"""Longer box side handled by each level of `STRIDES` (they overlap a little on purpose)."""
CENTRE_RADIUS = 1.5
MIN_FILL = 0.08
"""Boxes whose visible pixels cover less of the box than this are fragments: ignored."""
MIN_SIDE_PX = 3.0


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a training run (written into the model card).

    Attributes:
        epochs: Passes over the dataset.
        batch_size: Images per step.
        crop_hw: Training crop size (H, W), multiples of 32; the net is fully convolutional.
        scale_range: Random rescaling of the frames before cropping.
        learning_rate: Peak AdamW learning rate (cosine decay after a linear warm-up).
        weight_decay: AdamW weight decay.
        warmup_steps: Steps of linear warm-up.
        seed: Seed of initialisation, sampling and augmentation.
        threads: PyTorch intra-op threads.
        loader_workers: Processes reading and augmenting frames while the net trains (0:
            in the training process). Each frame's augmentation is seeded by the run's seed
            and its place in the run, so the result does not depend on this number.
    """

    epochs: int = 12
    batch_size: int = 16
    crop_hw: tuple[int, int] = (256, 320)
    scale_range: tuple[float, float] = (0.6, 1.5)
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    warmup_steps: int = 300
    seed: int = 0
    threads: int = 2
    loader_workers: int = 1


class SyntheticBoxes:
    """The frames and boxes of a dataset written by `arinspect.detect.synthetic`."""

    def __init__(self, folder: str | Path, classes: list[str]) -> None:
        self.folder = Path(folder)
        path = self.folder / ANNOTATIONS
        try:
            document = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise DataFormatError(path, f"cannot read the dataset annotations: {exc}") from exc
        self.classes = classes
        index = {name: i for i, name in enumerate(classes)}
        self.items = []
        for entry in document["images"]:
            rows = [
                [index[b["class"]], *b["box_xyxy_px"], _fill(b)]
                for b in entry["boxes"]
                if b["class"] in index
            ]
            self.items.append((entry["file"], np.array(rows, np.float32).reshape(-1, 6)))

    def __len__(self) -> int:
        return len(self.items)

    def load(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame `i` (H, W, 3 uint8 BGR) and its (K, 6) rows ``[class, x0, y0, x1, y1, fill]``."""
        file, rows = self.items[i]
        image = cv2.imread(str(self.folder / file), cv2.IMREAD_COLOR)
        if image is None:
            raise DataFormatError(self.folder / file, "cannot be read as an image")
        return image, rows


def _fill(box: dict) -> float:
    x0, y0, x1, y1 = box["box_xyxy_px"]
    return box["visible_px"] / max((x1 - x0) * (y1 - y0), 1.0)


def augment(
    image: np.ndarray, rows: np.ndarray, config: TrainConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Random scale, crop (biased towards parts), flip and colour change of one frame.

    Returns:
        (3, H, W) float32 BGR crop in [0, 1] and (K, 6) rows ``[class, x0, y0, x1, y1,
        ignore]`` in crop pixels.
    """
    crop_h, crop_w = config.crop_hw
    scale = math.exp(rng.uniform(*np.log(config.scale_range)))
    image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    boxes = rows[:, 1:5] * scale
    h, w = image.shape[:2]
    if len(boxes) and rng.random() < 0.7:
        cx, cy = boxes[rng.integers(len(boxes))].reshape(2, 2).mean(axis=0)
        x0 = int(np.clip(cx - crop_w / 2 + rng.normal(0, crop_w / 5), 0, max(w - crop_w, 0)))
        y0 = int(np.clip(cy - crop_h / 2 + rng.normal(0, crop_h / 5), 0, max(h - crop_h, 0)))
    else:
        x0 = int(rng.integers(0, max(w - crop_w, 0) + 1))
        y0 = int(rng.integers(0, max(h - crop_h, 0) + 1))
    crop = np.full((crop_h, crop_w, 3), rng.integers(0, 256), np.uint8)
    part = image[y0 : y0 + crop_h, x0 : x0 + crop_w]
    crop[: part.shape[0], : part.shape[1]] = part
    boxes = boxes - [x0, y0, x0, y0]
    clipped = np.clip(boxes, 0, [part.shape[1], part.shape[0]] * 2)
    area = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    kept = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), axis=1)
    sides = clipped[:, 2:] - clipped[:, :2]
    keep = kept > 0
    ignore = (kept < 0.45 * area) | (sides.min(axis=1) < MIN_SIDE_PX) | (rows[:, 5] < MIN_FILL)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
        clipped[:, [0, 2]] = crop_w - clipped[:, [2, 0]]
    out = crop.astype(np.float32) / 255.0
    out = out * rng.uniform(0.8, 1.2, 3).astype(np.float32) * rng.uniform(0.7, 1.3)
    out += rng.uniform(-0.1, 0.1)
    if rng.random() < 0.1:
        out[:] = out.mean(axis=2, keepdims=True)
    out = np.clip(out, 0.0, 1.0).transpose(2, 0, 1)
    targets = np.concatenate(
        [rows[keep, :1], clipped[keep], ignore[keep, None].astype(np.float32)], axis=1
    )
    return np.ascontiguousarray(out), targets.astype(np.float32)


def assign_targets(
    targets: torch.Tensor,
    centres: torch.Tensor,
    stride: int,
    size_range: tuple[float, float],
    valid: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Which box each cell of one level learns, for one image or a padded batch.

    Args:
        targets: (K, 6) or (B, K, 6) rows ``[class, x0, y0, x1, y1, ignore]``, pixels.
        centres: (M, 2) cell centres of the level, pixels.
        stride: Level stride, pixels.
        size_range: Longer box sides the level handles, pixels.
        valid: (B, K) False for padding rows of a batch (default: every row is a box).

    Returns:
        box_index: (M,) or (B, M) index of the assigned box, -1 for none.
        ignored: (M,) or (B, M) True for cells inside an ignored box (no loss on their
            classes).
    """
    single = targets.dim() == 2
    if single:
        targets, valid = (t.to(centres.device) for t in pad_targets([targets]))
    elif valid is None:
        valid = torch.ones(targets.shape[:2], dtype=torch.bool, device=targets.device)
    boxes, ignore = targets[..., 1:5], (targets[..., 5] > 0.5) & valid
    centre = (boxes[..., :2] + boxes[..., 2:]) / 2
    side = (boxes[..., 2:] - boxes[..., :2]).max(dim=-1).values
    area = torch.prod(boxes[..., 2:] - boxes[..., :2], dim=-1)
    eligible = (side >= size_range[0]) & (side <= size_range[1]) & valid & ~ignore
    offsets = (centres[None, :, None, :] - centre[:, None]).abs()  # (B, M, K, 2)
    positive = (offsets <= CENTRE_RADIUS * stride).all(dim=-1) & eligible[:, None, :]
    cost = torch.where(positive, area[:, None, :], torch.full_like(area[:, None, :], 1e12))
    best = cost.argmin(dim=-1)
    box_index = torch.where(positive.any(dim=-1), best, torch.full_like(best, -1))
    x, y = centres[None, :, None, 0], centres[None, :, None, 1]
    inside = (
        (x >= boxes[:, None, :, 0])
        & (x <= boxes[:, None, :, 2])
        & (y >= boxes[:, None, :, 1])
        & (y <= boxes[:, None, :, 3])
    )
    ignored = (inside & ignore[:, None, :]).any(dim=-1) & (box_index < 0)
    return (box_index[0], ignored[0]) if single else (box_index, ignored)


def pad_targets(targets: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, K, 6) target rows padded with zeros to the longest image's, and (B, K) validity."""
    longest = max([len(t) for t in targets] + [1])
    rows = torch.zeros(len(targets), longest, 6)
    valid = torch.zeros(len(targets), longest, dtype=torch.bool)
    for i, target in enumerate(targets):
        rows[i, : len(target)] = target
        valid[i, : len(target)] = True
    return rows, valid


def giou(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """IoU and generalised IoU of matching rows of (N, 4) xyxy boxes."""
    lt, rb = torch.max(a[:, :2], b[:, :2]), torch.min(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(dim=1)
    area_a = (a[:, 2:] - a[:, :2]).clamp(min=0).prod(dim=1)
    area_b = (b[:, 2:] - b[:, :2]).clamp(min=0).prod(dim=1)
    union = area_a + area_b - inter + 1e-9
    iou = inter / union
    hull = (torch.max(a[:, 2:], b[:, 2:]) - torch.min(a[:, :2], b[:, :2])).prod(dim=1) + 1e-9
    return iou, iou - (hull - union) / hull


def detection_loss(
    raw_levels: list[torch.Tensor], targets: list[torch.Tensor], num_classes: int
) -> tuple[torch.Tensor, dict[str, float]]:
    """Class loss plus GIoU loss on boxes, over a batch.

    Classes: binary cross-entropy against a quality target (0.5 + 0.5 IoU of the predicted
    box for the true class, 0 for the others), in full at positive cells and with a focal
    weight p^2 at background cells (the many easy negatives). A focal weight on positives
    too (quality focal loss) left classes confused: it starves the positives of gradient.
    """
    height, width = (n * STRIDES[0] for n in raw_levels[0].shape[2:])
    device = raw_levels[0].device
    rows, valid = (t.to(device) for t in pad_targets(targets))
    boxes, labels = rows[..., 1:5], rows[..., 0].long()
    cls_loss, box_loss, num_pos = rows.new_zeros(()), rows.new_zeros(()), 0
    for stride, size_range, raw in zip(STRIDES, LEVEL_SIZE_RANGES_PX, raw_levels, strict=True):
        flat = flatten_level(raw)
        centres = cell_centres(height, width, stride).to(device)
        box_index, ignored = assign_targets(rows, centres, stride, size_range, valid)
        logits = flat[..., BOX_CHANNELS:]
        quality = torch.zeros_like(logits)
        image, cell = (box_index >= 0).nonzero(as_tuple=True)
        if len(image):
            assigned = box_index[image, cell]
            pred = decode_boxes(flat[image, cell, :BOX_CHANNELS], centres[cell], stride)
            iou, g = giou(pred, boxes[image, assigned])
            box_loss = box_loss + (1.0 - g).sum()
            quality[image, cell, labels[image, assigned]] = 0.5 + 0.5 * iou.detach().clamp(min=0.0)
            num_pos += len(image)
        prob = torch.sigmoid(logits)
        bce = nn.functional.binary_cross_entropy_with_logits(logits, quality, reduction="none")
        positive = (box_index >= 0)[..., None]
        weight = torch.where(positive, 1.0, prob.pow(2.0)) * (~ignored)[..., None]
        cls_loss = cls_loss + (bce * weight.detach()).sum()
    norm = max(num_pos, 1)
    cls_loss, box_loss = cls_loss / norm, box_loss / norm
    total = cls_loss + 2.0 * box_loss
    return total, {"cls": cls_loss.item(), "box": box_loss.item(), "positives": num_pos}


def train_detector(
    dataset_dir: str | Path,
    classes: list[str],
    config: TrainConfig = TrainConfig(),
    report: Callable[[str], None] | None = None,
    initial_weights: str | Path | None = None,
) -> DetectorNet:
    """Train a `DetectorNet` on the dataset in `dataset_dir`; returns it in eval mode.

    Args:
        dataset_dir: Dataset written by `arinspect.detect.synthetic.write_dataset`.
        classes: Class names, in the order of the net's outputs.
        config: Hyper-parameters.
        report: Called with a progress line every 50 steps.
        initial_weights: A checkpoint (`save_checkpoint`) to start from (fine-tuning);
            None starts from a fresh initialisation.
    """
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    cv2.setNumThreads(1)
    data = SyntheticBoxes(dataset_dir, classes)
    net = DetectorNet(len(classes))
    if initial_weights is not None:
        net.load_state_dict(torch.load(initial_weights, weights_only=True))
    optimiser = torch.optim.AdamW(
        net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    steps_per_epoch = len(data) // config.batch_size
    total_steps = steps_per_epoch * config.epochs

    def learning_rate(step: int) -> float:
        if step < config.warmup_steps:
            return (step + 1) / config.warmup_steps
        progress = (step - config.warmup_steps) / max(total_steps - config.warmup_steps, 1)
        return 0.02 + 0.98 * 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, learning_rate)
    rng = np.random.default_rng(config.seed)
    order = np.concatenate(
        [
            rng.permutation(len(data))[: steps_per_epoch * config.batch_size]
            for _ in range(config.epochs)
        ]
    )
    batches = torch.utils.data.DataLoader(
        AugmentedFrames(data, config, order),
        batch_size=config.batch_size,
        num_workers=config.loader_workers,
        collate_fn=_collate,
        worker_init_fn=_quiet_worker,
    )
    net.train()
    running: dict[str, float] = {}
    started = time.perf_counter()
    for step, (images, targets) in enumerate(batches, start=1):
        loss, parts = detection_loss(net(images), targets, len(classes))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 10.0)
        optimiser.step()
        scheduler.step()
        for key, value in {**parts, "steps": 1}.items():
            running[key] = running.get(key, 0.0) + value
        if report and step % 50 == 0:
            n, epoch = running["steps"], (step - 1) // steps_per_epoch + 1
            report(
                f"epoch {epoch}/{config.epochs} step {step}/{total_steps}"
                f" cls {running['cls'] / n:.3f} box {running['box'] / n:.3f}"
                f" pos/img {running['positives'] / n / config.batch_size:.1f}"
                f" lr {scheduler.get_last_lr()[0]:.2e}"
                f" {(time.perf_counter() - started) / 60:.1f} min"
            )
            running = {}
    return net.eval()


class AugmentedFrames(torch.utils.data.Dataset):
    """The augmented frames of one training run, in the run's order.

    Item ``k`` is frame ``order[k]`` augmented with a generator seeded by
    ``(config.seed, k)``: the same run gives the same crops in any number of loader workers.
    """

    def __init__(self, data: SyntheticBoxes, config: TrainConfig, order: np.ndarray) -> None:
        self.data, self.config, self.order = data, config, order

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        rng = np.random.default_rng((self.config.seed, k))
        image, target = augment(*self.data.load(int(self.order[k])), self.config, rng)
        return torch.from_numpy(image), torch.from_numpy(target)


def _collate(items: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, list]:
    return torch.stack([image for image, _ in items]), [target for _, target in items]


def _quiet_worker(_: int) -> None:
    """One OpenCV and one PyTorch thread per loader worker (the trainer has the cores)."""
    cv2.setNumThreads(1)
    torch.set_num_threads(1)


def export_onnx(
    net: DetectorNet,
    path: str | Path,
    classes: list[str],
    input_hw: tuple[int, int],
    metadata: dict[str, str],
) -> Path:
    """Write `net` with in-graph decoding to a single ONNX file with its class list inside."""
    import onnx

    path = Path(path)
    wrapper = ExportWrapper(net.eval(), input_hw).eval()
    dummy = torch.zeros(1, 3, *input_hw)
    with warnings.catch_warnings():  # the TorchScript exporter is deprecated, still supported
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(
            wrapper,
            (dummy,),
            str(path),
            input_names=["image"],
            output_names=["detections"],
            opset_version=17,
            dynamo=False,
        )
    model = onnx.load(str(path))
    props = {
        "classes": json.dumps(classes),
        "input_hw": json.dumps(list(input_hw)),
        "input_format": "BGR, float32 in [0, 1], NCHW, letterboxed with grey (114) padding",
        "output_format": "(1, M, 4 + C): x0, y0, x1, y1 (input pixels), class probabilities",
        **metadata,
    }
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(path))
    return path


def save_checkpoint(net: DetectorNet, path: str | Path) -> Path:
    """Save the trained weights (PyTorch state dict) for fine-tuning or inspection later."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    return path
