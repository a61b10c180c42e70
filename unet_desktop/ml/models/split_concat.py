"""Rewrite ``conv(cat([skip, up]))`` in the U-Net's decoder as ``conv_s(skip) + conv_u(up)``.

A convolution over a channel concatenation is the sum of two convolutions over its parts (the
weights split along the input channels, the bias kept once), so the rewrite changes only float
rounding. It removes the concatenation, which copies the largest activation maps of the network
and makes ONNX Runtime convert them between its blocked and plain memory layouts: on an idle
CPU 1.4% faster at 256 px and 9% at 512 px (one thread), more when other work shares the cores
(docs/benchmarks.md). Used for the ONNX export only; the model file keeps the usual layout.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from unet_desktop.ml.models.unet import Up


class SplitUp(nn.Module):
    """An :class:`Up` block whose first convolution is split between skip and upsampled input."""

    def __init__(self, block: Up) -> None:
        super().__init__()
        first = block.conv[0]
        if not (isinstance(first, nn.Conv2d) and isinstance(block.conv[2], nn.ReLU)
                and isinstance(block.conv[1], nn.Identity)):
            raise TypeError("SplitUp needs a BatchNorm-folded block (conv, identity, ReLU, ...)")
        skip_ch = first.in_channels - _out_channels(block.up)
        self.up = block.up
        self.conv_skip = _part(first, slice(0, skip_ch), with_bias=True)
        self.conv_up = _part(first, slice(skip_ch, first.in_channels), with_bias=False)
        self.rest = nn.Sequential(*list(block.conv)[3:])

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.rest(F.relu(self.conv_skip(skip) + self.conv_up(self.up(x))))


def _out_channels(up: nn.Module) -> int:
    convs = [m for m in up.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    return convs[-1].out_channels


def _part(conv: nn.Conv2d, channels: slice, with_bias: bool) -> nn.Conv2d:
    width = channels.stop - channels.start
    part = nn.Conv2d(width, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                     conv.dilation, bias=with_bias and conv.bias is not None)
    with torch.no_grad():
        part.weight.copy_(conv.weight[:, channels])
        if part.bias is not None:
            part.bias.copy_(conv.bias)
    return part.to(conv.weight.device, conv.weight.dtype)


def split_concat_convs(model: nn.Module) -> nn.Module:
    """A copy of a BatchNorm-folded U-Net with every decoder block split (see the module
    docstring); a model without such blocks is returned unchanged."""
    ups = getattr(model, "ups", None)
    if not isinstance(ups, nn.ModuleList) or not all(isinstance(b, Up) for b in ups):
        return model
    try:
        blocks = [SplitUp(b) for b in ups]
    except TypeError:
        return model
    out = copy.copy(model)
    out._modules = dict(model._modules)
    out.ups = nn.ModuleList(blocks)
    return out.eval()
