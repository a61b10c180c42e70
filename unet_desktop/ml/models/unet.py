"""The U-Net of Ronneberger et al. (2015): a contracting path, an expanding path, skip connections.

Differences from the paper, as in most modern uses: 3x3 convolutions are padded (output size =
input size), each convolution is followed by BatchNorm, and the width and depth are configurable.
Inputs of any size are accepted: :meth:`UNet.forward` pads to a multiple of ``2**depth`` and crops
the logits back.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

Upsample = Literal["transpose", "bilinear"]


def conv_bn_relu(in_ch: int, out_ch: int) -> list[nn.Module]:
    """3x3 convolution (no bias: BatchNorm has one) + BatchNorm + ReLU."""
    return [
        nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    ]


class DoubleConv(nn.Sequential):
    """Two conv-BN-ReLU layers: the building block of both paths."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__(*conv_bn_relu(in_ch, out_ch), *conv_bn_relu(out_ch, out_ch))


class Down(nn.Sequential):
    """2x2 max-pool, then a double convolution (halves H and W)."""

    def __init__(self, in_ch: int, out_ch: int):
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_ch, out_ch))


class Up(nn.Module):
    """Upsample by 2, concatenate the skip connection, double convolution.

    ``transpose`` learns the upsampling (2x2 transposed convolution halving the channels, as in
    the paper); ``bilinear`` interpolates and halves the channels with a 1x1 convolution.
    """

    def __init__(self, in_ch: int, skip_ch: int, out_ch: int, mode: Upsample):
        super().__init__()
        half = in_ch // 2
        if mode == "transpose":
            self.up: nn.Module = nn.ConvTranspose2d(in_ch, half, kernel_size=2, stride=2)
        elif mode == "bilinear":
            self.up = nn.Sequential(
                nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
                nn.Conv2d(in_ch, half, kernel_size=1),
            )
        else:
            raise ValueError(f"upsample must be 'transpose' or 'bilinear', got {mode!r}")
        self.conv = DoubleConv(half + skip_ch, out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, int, int]:
    """Pad the bottom/right of an NCHW tensor (reflecting where possible) to a size multiple.

    Returns the padded tensor and the original height and width.
    """
    h, w = x.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h or pad_w:
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"
        x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
    return x, h, w


def check_input(x: torch.Tensor, in_channels: int) -> None:
    """Raise ``ValueError`` naming the expected and the actual shape."""
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(
            f"expected a float tensor of shape (batch, {in_channels}, height, width), "
            f"got {tuple(x.shape)}"
        )


class PaddedSegmenter(nn.Module):
    """Base of the networks: ``forward`` pads to ``size_multiple``, runs ``forward_padded`` (what
    the ONNX export traces) and crops the logits back to the input's size."""

    in_channels: int
    size_multiple: int

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels)
        x, h, w = pad_to_multiple(x, self.size_multiple)
        return self.forward_padded(x)[..., :h, :w]


class UNet(PaddedSegmenter):
    """U-Net with ``depth`` poolings and ``base * 2**level`` channels per level.

    ``forward`` takes a normalised float tensor (B, in_channels, H, W) of any H, W and returns
    logits (B, num_classes, H, W). ``forward_padded`` is the same network for inputs whose size
    is already a multiple of :attr:`size_multiple` (used by the ONNX export).
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 2,
        depth: int = 4,
        base: int = 16,
        upsample: Upsample = "transpose",
    ):
        super().__init__()
        if in_channels < 1 or num_classes < 1:
            raise ValueError(f"in_channels and num_classes must be >= 1, got {in_channels}, "
                             f"{num_classes}")
        if not 1 <= depth <= 6:
            raise ValueError(f"depth must be 1..6, got {depth}")
        if base < 1:
            raise ValueError(f"base width must be >= 1, got {base}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.size_multiple = 2**depth
        widths = [base * 2**level for level in range(depth + 1)]
        self.inc = DoubleConv(in_channels, widths[0])
        self.downs = nn.ModuleList(Down(widths[i], widths[i + 1]) for i in range(depth))
        self.ups = nn.ModuleList(
            Up(widths[i + 1], widths[i], widths[i], upsample) for i in reversed(range(depth))
        )
        self.head = nn.Conv2d(widths[0], num_classes, kernel_size=1)

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        x = skips.pop()
        for up in self.ups:
            x = up(x, skips.pop())
        return self.head(x)

