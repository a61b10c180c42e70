"""U-Net with an EfficientNet-Lite encoder (timm's ``efficientnet_liteN``, ``features_only``).

The encoder is timm's implementation, so its layers are the ones the ImageNet checkpoints were
trained with; ``ml.models.imagenet_weights`` maps the packaged checkpoint onto it. The decoder is a
plain U-Net path over the encoder's five scales (1/2 ... 1/32): nearest x2 upsampling, the skip
concatenated, two conv-BN-ReLU layers. With five decoder widths one more block brings it to full
resolution; with four (the light decoder) the logits are made at 1/2 scale and upsampled
bilinearly, which skips the costliest block (a third of the CPU time at 320 px,
docs/benchmarks.md).
Grayscale images are fed as three channels (the image loader replicates them), which keeps the
ImageNet stem's filters meaningful.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from unet_desktop.ml.models.imagenet_weights import ENCODERS, imagenet_state_dict
from unet_desktop.ml.models.resnet_unet import DecoderBlock
from unet_desktop.ml.models.unet import PaddedSegmenter

DEFAULT_ENCODER = "efficientnet_lite0"
DEFAULT_DECODER = (96, 64, 40, 24, 16)  # channels of the decoder blocks, 1/16 ... full scale


def _encoder(name: str, pretrained: bool) -> nn.Module:
    """timm's ``features_only`` encoder, with the packaged ImageNet weights if asked."""
    import timm  # seconds to import: only when such a model is built

    features = timm.create_model(name, pretrained=False, features_only=True)
    if pretrained:
        full = timm.create_model(name, pretrained=False, num_classes=1000)
        mapped = imagenet_state_dict(name, full.state_dict())
        own = features.state_dict()
        features.load_state_dict({key: mapped[key] for key in own}, strict=True)
    return features


class EffNetUNet(PaddedSegmenter):
    """EfficientNet-Lite encoder + U-Net decoder; logits at the input resolution."""

    size_multiple = 32

    def __init__(self, encoder: str = DEFAULT_ENCODER, in_channels: int = 3,
                 num_classes: int = 2, pretrained: bool = False,
                 decoder_widths: tuple[int, ...] = DEFAULT_DECODER):
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
        if in_channels != 3:
            raise ValueError(f"the {encoder} encoder takes 3 channels (gray images are fed as "
                             f"three), got in_channels={in_channels}")
        if len(decoder_widths) not in (4, 5):
            raise ValueError(f"decoder_widths needs 4 (logits at 1/2 scale) or 5 entries (full "
                             f"scale), got {len(decoder_widths)}")
        self.in_channels, self.num_classes = in_channels, num_classes
        self.encoder_name, self.decoder_widths = encoder, tuple(decoder_widths)
        self.encoder = _encoder(encoder, pretrained)
        widths = self.encoder.feature_info.channels()  # 1/2 ... 1/32
        skips = (*reversed(widths[:-1]), 0)[:len(decoder_widths)]
        ins = (widths[-1], *decoder_widths[:-1])
        self.decoder = nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(ins, skips, decoder_widths))
        self.head = nn.Conv2d(decoder_widths[-1], num_classes, kernel_size=1)

    def forward_padded(self, x: torch.Tensor) -> torch.Tensor:
        feats = list(self.encoder(x))
        x = feats.pop()
        for block in self.decoder:
            x = block(x, feats.pop() if feats else None)
        logits = self.head(x)
        if len(self.decoder) == 4:  # light decoder: 1/2 scale
            logits = F.interpolate(logits, scale_factor=2.0, mode="bilinear", align_corners=False)
        return logits


def light_decoder_arch(arch: dict) -> dict:
    """``arch`` (an effnet_unet with a full-scale decoder) with its last decoder block left out."""
    decoder = list(arch.get("decoder", DEFAULT_DECODER))
    if arch.get("name") != "effnet_unet" or len(decoder) != 5:
        raise ValueError(f"a light decoder is made from an effnet_unet with 5 decoder blocks, "
                         f"got {arch.get('name')!r} with {decoder!r}")
    return {**arch, "decoder": decoder[:4]}


def light_decoder_copy(model: EffNetUNet) -> EffNetUNet:
    """A copy of ``model`` whose decoder stops at 1/2 scale: the encoder and the first four
    decoder blocks carried over, a 1x1 head on the fourth block with fresh weights (PyTorch's
    default initialisation from the global generator: seed it first) and the old head's bias
    (the classes' priors)."""
    if len(model.decoder) != 5:
        raise ValueError(f"the model's decoder has {len(model.decoder)} blocks, not 5")
    light = EffNetUNet(pretrained=False, num_classes=model.num_classes,
                       decoder_widths=model.decoder_widths[:4], encoder=model.encoder_name)
    carried = {k: v for k, v in model.state_dict().items()
               if not k.startswith("decoder.4.") and k != "head.weight"}
    missing, unexpected = light.load_state_dict(carried, strict=False)
    if unexpected or missing != ["head.weight"]:
        raise RuntimeError(f"light decoder copy: missing {missing}, unexpected {unexpected}")
    return light.to(next(model.parameters()).device)
