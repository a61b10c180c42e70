"""The baseline: a UNet written the way the classic PyTorch UNet repositories write it.

Plain eager fp32 modules, BatchNorm kept as separate layers, an ``Up`` block that pads the
upsampled map to its skip's size, ``model(x)`` under ``torch.no_grad()`` only. Its modules are
registered in the same order as :class:`unet_desktop.ml.models.unet.UNet`, so
:func:`load_project_weights` can copy the project's weights over position by position and the
two give the same outputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class DoubleConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.double_conv(x)


class Down(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_ch, out_ch))

    def forward(self, x):
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_ch: int, out_ch: int):
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, in_ch // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_ch, out_ch)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        dy, dx = x2.size(2) - x1.size(2), x2.size(3) - x1.size(3)
        x1 = F.pad(x1, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class ClassicUNet(nn.Module):
    """Depth 4, widths base..16*base, transposed-conv upsampling, 1x1 output convolution."""

    def __init__(self, n_channels: int = 3, n_classes: int = 3, base: int = 64):
        super().__init__()
        self.inc = DoubleConv(n_channels, base)
        self.down1 = Down(base, base * 2)
        self.down2 = Down(base * 2, base * 4)
        self.down3 = Down(base * 4, base * 8)
        self.down4 = Down(base * 8, base * 16)
        self.up1 = Up(base * 16, base * 8)
        self.up2 = Up(base * 8, base * 4)
        self.up3 = Up(base * 4, base * 2)
        self.up4 = Up(base * 2, base)
        self.outc = nn.Conv2d(base, n_classes, kernel_size=1)

    def forward(self, x):
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.outc(x)


def load_project_weights(reference: ClassicUNet, project_state: dict[str, torch.Tensor]) -> None:
    """Copy a depth-4 project UNet's state dict into ``reference`` by position."""
    ref_state = reference.state_dict()
    if len(ref_state) != len(project_state):
        raise ValueError(f"{len(project_state)} project tensors for {len(ref_state)} slots")
    for (ref_key, ref_value), (key, value) in zip(ref_state.items(), project_state.items()):
        if ref_value.shape != value.shape:
            raise ValueError(f"{key} {tuple(value.shape)} does not fit {ref_key} "
                             f"{tuple(ref_value.shape)}")
        ref_value.copy_(value)
