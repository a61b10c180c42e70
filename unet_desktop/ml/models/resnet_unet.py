"""U-Net with a torchvision ResNet-18/34 encoder (optionally ImageNet-initialised).

ImageNet weights are never downloaded: they are read from the torch hub cache when the user has
them there (``torch.hub.get_dir()/checkpoints/resnet18-f37072fd.pth``), or from a file the user
names. Without them the encoder starts from random initialisation, which works offline.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision.models import ResNet, resnet18, resnet34
from torchvision.models.resnet import BasicBlock

from unet_desktop.ml.models.unet import DoubleConv, PaddedSegmenter

# torchvision's ImageNet checkpoint file names (ResNet*_Weights.IMAGENET1K_V1).
IMAGENET_FILES = {"resnet18": "resnet18-f37072fd.pth", "resnet34": "resnet34-b627a593.pth"}
_BUILDERS = {"resnet18": resnet18, "resnet34": resnet34}
_BLOCKS = {"resnet18": (2, 2, 2, 2), "resnet34": (3, 4, 6, 3)}


def encoder_widths(width: int = 64) -> tuple[int, ...]:
    """Channels of the stem (1/2 scale) and the four stages (1/4 ... 1/32) for a stem ``width``
    (torchvision's: 64, i.e. 64, 64, 128, 256, 512)."""
    return (width, width, 2 * width, 4 * width, 8 * width)


class SlimResNet(nn.Module):
    """A torchvision-style ResNet (same blocks and attribute names) with a stem of ``width``
    channels instead of 64: a quarter of the weights at width 32, for small from-scratch models
    (ImageNet weights need width 64)."""

    def __init__(self, blocks: tuple[int, ...], width: int, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        channels = width
        for index, count in enumerate(blocks):
            planes, stride = width * 2**index, 1 if index == 0 else 2
            layer = []
            for _ in range(count):
                down = None
                if stride != 1 or channels != planes:
                    down = nn.Sequential(nn.Conv2d(channels, planes, 1, stride, bias=False),
                                         nn.BatchNorm2d(planes))
                layer.append(BasicBlock(channels, planes, stride, down))
                channels, stride = planes, 1
            setattr(self, f"layer{index + 1}", nn.Sequential(*layer))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def cached_imagenet_weights(encoder: str) -> Path | None:
    """Path of the ImageNet checkpoint in the torch hub cache, or None when it is not there."""
    path = Path(torch.hub.get_dir()) / "checkpoints" / IMAGENET_FILES[encoder]
    return path if path.is_file() else None


def load_encoder_weights(resnet: ResNet, path: str | Path, in_channels: int) -> None:
    """Load a torchvision ResNet state dict (tensors only: ``weights_only=True``).

    For a 1-channel input the RGB filters of the first convolution are summed, which keeps the
    response to a gray image equal to the response to that gray image replicated to RGB.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}
    if in_channels != 3:
        rgb = state["conv1.weight"]
        if in_channels == 1:
            state["conv1.weight"] = rgb.sum(dim=1, keepdim=True)
        else:
            state.pop("conv1.weight")  # no sensible mapping: keep the random stem
    resnet.load_state_dict(state, strict=False)


class DecoderBlock(nn.Module):
    """Upsample x2 (nearest), concatenate the skip (if any), double convolution."""

    def __init__(self, in_ch: int, skip_ch: int, out_ch: int):
        super().__init__()
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.conv = DoubleConv(in_ch + skip_ch, out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None) -> torch.Tensor:
        x = self.up(x)
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv(x)


class ResNetUNet(PaddedSegmenter):
    """ResNet encoder (5 scales) + U-Net decoder; logits at the input resolution."""

    size_multiple = 32

    def __init__(
        self,
        encoder: str = "resnet34",
        in_channels: int = 3,
        num_classes: int = 2,
        encoder_weights: str | Path | None = None,
        decoder_widths: tuple[int, ...] | None = None,
        width: int = 64,
    ):
        super().__init__()
        if encoder not in _BUILDERS:
            raise ValueError(f"encoder must be one of {sorted(_BUILDERS)}, got {encoder!r}")
        if not 8 <= width <= 128:
            raise ValueError(f"encoder width must be 8..128, got {width}")
        if width != 64 and encoder_weights is not None:
            raise ValueError(f"ImageNet weights fit the width-64 {encoder} only, not width {width}")
        decoder_widths = decoder_widths or tuple(max(16, w * width // 64)
                                                 for w in (256, 128, 64, 32, 16))
        if len(decoder_widths) != 5:
            raise ValueError(f"decoder_widths needs 5 entries, got {len(decoder_widths)}")
        self.in_channels = in_channels
        self.num_classes = num_classes
        widths = encoder_widths(width)
        if width == 64:
            resnet: nn.Module = _BUILDERS[encoder](weights=None)
            if in_channels != 3:
                resnet.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3,
                                         bias=False)
        else:
            resnet = SlimResNet(_BLOCKS[encoder], width, in_channels)
        if encoder_weights is not None:
            load_encoder_weights(resnet, encoder_weights, in_channels)
        self.stem = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu)
        self.pool = resnet.maxpool
        self.layers = nn.ModuleList([resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4])
        skips = (*reversed(widths[:-1]), 0)  # 256, 128, 64, 64, then none at full res
        ins = (widths[-1], *decoder_widths[:-1])
        self.decoder = nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(ins, skips, decoder_widths)
        )
        self.head = nn.Conv2d(decoder_widths[-1], num_classes, kernel_size=1)

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.stem(x)]
        x = self.pool(feats[0])
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        x = feats.pop()
        for block in self.decoder:
            x = block(x, feats.pop() if feats else None)
        return self.head(x)

