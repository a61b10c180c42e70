"""Tiny, randomly initialised models saved as real model files, for fast ml tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from unet_desktop.core.labels import LabelScheme, binary_scheme, trimap_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model


def randomize_batchnorm(model: torch.nn.Module, seed: int = 0) -> None:
    """Give every BatchNorm non-trivial running statistics and affine parameters."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.1)


def tiny_meta(scheme: LabelScheme, in_channels: int = 3, depth: int = 2, base: int = 4,
              train_size: int = 32) -> ModelMeta:
    return ModelMeta(
        arch=unet_arch(in_channels, scheme.num_classes, depth=depth, base=base),
        scheme=scheme,
        normalization={"mean": [0.5] * in_channels, "std": [0.25] * in_channels},
        train_size=train_size,
        version=new_version_id(),
        name="tiny",
        data_summary={"images": 0},
        metrics={"val_miou": 0.5},
    )


def make_model_file(path: Path, scheme: LabelScheme, in_channels: int = 3, depth: int = 2,
                    base: int = 4, seed: int = 0) -> tuple[Path, ModelMeta]:
    torch.manual_seed(seed)
    meta = tiny_meta(scheme, in_channels, depth, base)
    model = build_model(meta.arch)
    randomize_batchnorm(model, seed)
    save_model(path, model, meta)
    return path, meta


@pytest.fixture
def randomize_bn():
    """The :func:`randomize_batchnorm` helper (test modules cannot import conftest)."""
    return randomize_batchnorm


@pytest.fixture
def model_file_factory(tmp_path):
    """``factory(scheme, in_channels=3, depth=2, base=4, seed=0, name=...) -> (path, meta)``."""

    def factory(scheme: LabelScheme, in_channels: int = 3, depth: int = 2, base: int = 4,
                seed: int = 0, name: str = "model.safetensors") -> tuple[Path, ModelMeta]:
        return make_model_file(tmp_path / name, scheme, in_channels, depth, base, seed)

    return factory


@pytest.fixture
def tiny_model_file(tmp_path) -> Path:
    """A 3-channel, trimap (3-class) UNet of depth 2 and base width 4, saved to tmp_path."""
    return make_model_file(tmp_path / "tiny.safetensors", trimap_scheme())[0]


@pytest.fixture
def tiny_binary_model_file(tmp_path) -> Path:
    """A 1-channel binary UNet of depth 2 and base width 4, saved to tmp_path."""
    return make_model_file(tmp_path / "tiny-binary.safetensors", binary_scheme(), 1)[0]
