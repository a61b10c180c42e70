"""Fold eval-mode BatchNorm into the preceding convolution (an inference-only speed-up).

BN in eval mode is the affine map ``y = (x - mean) / sqrt(var + eps) * gamma + beta`` per
channel, so a convolution followed by it equals one convolution with rescaled weights and a
bias. Folding removes a full pass over every activation map; outputs stay equal up to float
rounding.
"""

from __future__ import annotations

import copy
import itertools

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Attribute pairs (conv, bn) used by torchvision's ResNet blocks and stem.
_NAMED_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (
        type(conv) is nn.Conv2d
        and type(bn) is nn.BatchNorm2d
        and bn.track_running_stats
        and conv.out_channels == bn.num_features
    )


def _fold_sequential(seq: nn.Sequential) -> int:
    children = list(seq._modules.items())
    folded = 0
    for (name, conv), (bn_name, bn) in itertools.pairwise(children):
        if _foldable(conv, bn):
            seq._modules[name] = fuse_conv_bn_eval(conv, bn)
            seq._modules[bn_name] = nn.Identity()
            folded += 1
    return folded


def _fold_named(module: nn.Module) -> int:
    folded = 0
    for conv_name, bn_name in _NAMED_PAIRS:
        conv, bn = getattr(module, conv_name, None), getattr(module, bn_name, None)
        if conv is not None and bn is not None and _foldable(conv, bn):
            setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))
            setattr(module, bn_name, nn.Identity())
            folded += 1
    return folded


def fold_batchnorm(model: nn.Module) -> tuple[nn.Module, int]:
    """Return an eval-mode copy of ``model`` with BatchNorm folded, and the number of folds.

    Folds a ``Conv2d`` directly followed by a ``BatchNorm2d`` inside an ``nn.Sequential``, and
    torchvision's ``convN``/``bnN`` attribute pairs (ResNet stem and blocks), which is where the
    models of this project put them. The original model is left untouched.
    """
    fused = copy.deepcopy(model).eval()
    folded = 0
    for module in list(fused.modules()):
        if isinstance(module, nn.Sequential):
            folded += _fold_sequential(module)
        else:
            folded += _fold_named(module)
    return fused, folded
