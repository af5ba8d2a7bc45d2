"""The detector network (PyTorch; needs the ``train`` extra): a small anchor-free one-stage net.

Plain 3x3 convolutions with batch norm and ReLU (they quantise and run fastest on
onnxruntime's CPU kernels), channel widths in multiples of 16, a top-down feature pyramid
over strides 8, 16 and 32, and one head per level predicting, for every grid cell, class
logits and a box as centre offset and log size in stride units. The head is decoupled:
the classes and the box each get their own 3x3 convolution. Widths and head were chosen by
training variants side by side on a GPU (docs/detector.md).

`DetectorNet.forward` returns the raw head maps for training; `ExportWrapper` decodes
them in the graph into boxes ``[x0, y0, x1, y1]`` (input pixels) and class probabilities,
which is what the ONNX file outputs.
"""

from __future__ import annotations

import torch
from torch import nn

STRIDES = (8, 16, 32)
BOX_CHANNELS = 4


def conv_bn_relu(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> nn.Sequential:
    """Convolution, batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class Residual(nn.Module):
    """Two 3x3 convolutions with an identity shortcut."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(channels, channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(channels),
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        return self.act(x + self.body(x))


class DecoupledHead(nn.Module):
    """Separate class and box branches on one pyramid level.

    Output: (N, 4 + C, H, W), box channels first, like `DetectorNet.forward` describes.
    """

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.box = nn.Sequential(
            conv_bn_relu(channels, channels), nn.Conv2d(channels, BOX_CHANNELS, 1)
        )
        self.cls = nn.Sequential(
            conv_bn_relu(channels, channels), nn.Conv2d(channels, num_classes, 1)
        )
        prior = -4.6  # sigmoid(-4.6) = 0.01: start with few confident cells, as focal-loss nets do
        nn.init.constant_(self.cls[-1].bias, prior)
        nn.init.constant_(self.box[-1].bias, 0.0)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Box and class maps of one level, concatenated along channels."""
        return torch.cat([self.box(features), self.cls(features)], dim=1)


class DetectorNet(nn.Module):
    """Backbone, feature pyramid and per-level heads.

    Args:
        num_classes: Number of part classes.
        widths: Channels at strides 4, 8, 16, 32.
        neck: Channels of the pyramid and heads.
    """

    def __init__(
        self,
        num_classes: int,
        widths: tuple[int, int, int, int] = (32, 64, 128, 192),
        neck: int = 96,
    ) -> None:
        super().__init__()
        self.num_classes = num_classes
        w4, w8, w16, w32 = widths
        self.stem = nn.Sequential(
            conv_bn_relu(3, 16, 2), conv_bn_relu(16, w4, 2), conv_bn_relu(w4, w4)
        )
        self.stage8 = nn.Sequential(conv_bn_relu(w4, w8, 2), Residual(w8))
        self.stage16 = nn.Sequential(conv_bn_relu(w8, w16, 2), Residual(w16), Residual(w16))
        self.stage32 = nn.Sequential(conv_bn_relu(w16, w32, 2), Residual(w32))
        self.lateral = nn.ModuleList([conv_bn_relu(c, neck, kernel=1) for c in (w8, w16, w32)])
        self.smooth = nn.ModuleList([conv_bn_relu(neck, neck) for _ in STRIDES[:2]])
        self.heads = nn.ModuleList([DecoupledHead(neck, num_classes) for _ in STRIDES])

    def forward(self, image: torch.Tensor) -> list[torch.Tensor]:
        """Raw head maps, one (N, 4 + C, H/s, W/s) tensor per stride in `STRIDES`.

        Channels 0-1: centre offset from the cell centre (stride units); 2-3: log of box
        width and height (stride units); 4-: class logits. `image` is (N, 3, H, W) BGR in
        [0, 1] with H and W multiples of 32.
        """
        c4 = self.stem(image)
        c8 = self.stage8(c4)
        c16 = self.stage16(c8)
        c32 = self.stage32(c16)
        p32 = self.lateral[2](c32)
        p16 = self.smooth[1](
            self.lateral[1](c16) + nn.functional.interpolate(p32, scale_factor=2.0)
        )
        p8 = self.smooth[0](self.lateral[0](c8) + nn.functional.interpolate(p16, scale_factor=2.0))
        return [head(p) for head, p in zip(self.heads, (p8, p16, p32), strict=True)]


def cell_centres(height: int, width: int, stride: int) -> torch.Tensor:
    """(H/s * W/s, 2) pixel coordinates (x, y) of the grid-cell centres at `stride`, row-major."""
    ys, xs = torch.meshgrid(
        torch.arange(height // stride, dtype=torch.float32),
        torch.arange(width // stride, dtype=torch.float32),
        indexing="ij",
    )
    return (torch.stack([xs, ys], dim=-1).reshape(-1, 2) + 0.5) * stride


def decode_boxes(raw_box: torch.Tensor, centres: torch.Tensor, stride: int) -> torch.Tensor:
    """(N, M, 4) boxes ``[x0, y0, x1, y1]`` in pixels from (N, M, 4) raw box channels."""
    centre = centres + raw_box[..., :2] * stride
    half = torch.exp(raw_box[..., 2:].clamp(max=6.0)) * (stride / 2)
    return torch.cat([centre - half, centre + half], dim=-1)


def flatten_level(raw: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) head map to (N, H*W, C), row-major cells."""
    n, c, _, _ = raw.shape
    return raw.reshape(n, c, -1).permute(0, 2, 1)


class ExportWrapper(nn.Module):
    """The network with in-graph decoding, for a fixed input size (what goes into ONNX).

    Output: (1, M, 4 + C) rows ``[x0, y0, x1, y1, p_class...]`` over all cells of all
    levels, boxes in input pixels, class probabilities after a sigmoid.
    """

    def __init__(self, net: DetectorNet, input_hw: tuple[int, int]) -> None:
        super().__init__()
        self.net = net
        for stride in STRIDES:
            self.register_buffer(f"centres{stride}", cell_centres(*input_hw, stride))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """Decoded rows for `image` (1, 3, H, W), BGR in [0, 1]."""
        rows = []
        for stride, raw in zip(STRIDES, self.net(image), strict=True):
            flat = flatten_level(raw)
            boxes = decode_boxes(
                flat[..., :BOX_CHANNELS], getattr(self, f"centres{stride}"), stride
            )
            rows.append(torch.cat([boxes, torch.sigmoid(flat[..., BOX_CHANNELS:])], dim=-1))
        return torch.cat(rows, dim=1)
