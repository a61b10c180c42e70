"""Build a segmentation network from its JSON-able architecture description.

Three architectures::

    {"name": "unet", "in_channels": 3, "num_classes": 3, "depth": 4, "base": 16,
     "upsample": "transpose" | "bilinear"}
    {"name": "resnet_unet", "encoder": "resnet18" | "resnet34", "in_channels": 3,
     "num_classes": 3, "encoder_weights": None | "imagenet" | "/path/to/resnet.pth",
     "width": 64}   # stem width; other than 64 = a slimmer ResNet, no ImageNet weights
    {"name": "effnet_unet", "encoder": "efficientnet_lite0" | "..._lite1" | "..._lite2",
     "in_channels": 3, "num_classes": 3, "encoder_weights": None | "imagenet",
     "decoder": [96, 64, 40, 24, 16]}   # ImageNet weights from the packages that ship them

Every model takes a normalised (B, in_channels, H, W) float tensor of any H, W and returns
logits (B, num_classes, H, W); ``model.size_multiple`` is the size it pads to internally.
"""

from __future__ import annotations

from torch import nn

from unet_desktop.ml.models.effnet_unet import DEFAULT_DECODER, DEFAULT_ENCODER, EffNetUNet
from unet_desktop.ml.models.imagenet_weights import weights_origin
from unet_desktop.ml.models.resnet_unet import IMAGENET_FILES, ResNetUNet, cached_imagenet_weights
from unet_desktop.ml.models.unet import UNet

_UNET_KEYS = {"name", "in_channels", "num_classes", "depth", "base", "upsample"}
_RESNET_KEYS = {"name", "encoder", "in_channels", "num_classes", "encoder_weights", "width"}
_EFFNET_KEYS = {"name", "encoder", "in_channels", "num_classes", "encoder_weights", "decoder",
                "weights_origin"}


def unet_arch(in_channels: int = 3, num_classes: int = 2, depth: int = 4, base: int = 16,
              upsample: str = "transpose") -> dict:
    """The architecture dict of a plain U-Net (convenience for scripts and tests)."""
    return {"name": "unet", "in_channels": in_channels, "num_classes": num_classes,
            "depth": depth, "base": base, "upsample": upsample}


def pretrained_arch(num_classes: int | None, encoder: str = DEFAULT_ENCODER) -> dict:
    """The architecture of a new model: an ImageNet-initialised EfficientNet-Lite U-Net.
    ``num_classes`` None leaves the class count out (training takes it from the masks)."""
    arch = {"name": "effnet_unet", "encoder": encoder, "in_channels": 3,
            "num_classes": num_classes, "encoder_weights": "imagenet",
            "decoder": list(DEFAULT_DECODER), "weights_origin": weights_origin(encoder)}
    return arch if num_classes is not None else {k: v for k, v in arch.items()
                                                 if k != "num_classes"}


def _check_keys(arch: dict, allowed: set[str]) -> None:
    unknown = set(arch) - allowed
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} in {arch['name']!r} architecture; "
                         f"allowed: {sorted(allowed)}")


def _int(arch: dict, key: str, default: int | None = None) -> int:
    value = arch.get(key, default)
    if value is None:
        raise ValueError(f"architecture {arch.get('name')!r} needs {key!r}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"architecture key {key!r} must be an integer, got {value!r}")
    return value


def build_model(arch: dict, *, pretrained: bool = True) -> nn.Module:
    """Build a randomly initialised model (``ValueError``/``TypeError`` on a bad description).

    With ``pretrained`` a ResNet encoder whose arch names ``encoder_weights`` gets them
    ("imagenet" = the torch hub cache if present, else random init; or a file path). Loading a
    saved model passes ``pretrained=False`` because its own weights replace them anyway.
    """
    if not isinstance(arch, dict) or "name" not in arch:
        raise ValueError(f"an architecture is a dict with a 'name', got {arch!r}")
    name = arch["name"]
    if name == "unet":
        _check_keys(arch, _UNET_KEYS)
        return UNet(
            in_channels=_int(arch, "in_channels"),
            num_classes=_int(arch, "num_classes"),
            depth=_int(arch, "depth", 4),
            base=_int(arch, "base", 16),
            upsample=arch.get("upsample", "transpose"),
        )
    if name == "resnet_unet":
        _check_keys(arch, _RESNET_KEYS)
        encoder = arch.get("encoder", "resnet34")
        weights = arch.get("encoder_weights") if pretrained else None
        if weights == "imagenet":
            weights = cached_imagenet_weights(encoder) if encoder in IMAGENET_FILES else None
        return ResNetUNet(
            encoder=encoder,
            in_channels=_int(arch, "in_channels"),
            num_classes=_int(arch, "num_classes"),
            encoder_weights=weights,
            width=_int(arch, "width", 64),
        )
    if name == "effnet_unet":
        _check_keys(arch, _EFFNET_KEYS)
        weights = arch.get("encoder_weights")
        if weights not in (None, "imagenet"):
            raise ValueError(f"effnet_unet encoder_weights must be 'imagenet' or None, got "
                             f"{weights!r}")
        decoder = arch.get("decoder", list(DEFAULT_DECODER))
        if not isinstance(decoder, list | tuple) or not all(
                isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in decoder):
            raise TypeError(f"architecture key 'decoder' must be a list of positive integers, "
                            f"got {decoder!r}")
        return EffNetUNet(
            encoder=arch.get("encoder", DEFAULT_ENCODER),
            in_channels=_int(arch, "in_channels"),
            num_classes=_int(arch, "num_classes"),
            pretrained=pretrained and weights == "imagenet",
            decoder_widths=tuple(decoder),
        )
    raise ValueError(f"unknown architecture {name!r} (known: 'unet', 'resnet_unet', "
                     "'effnet_unet')")
