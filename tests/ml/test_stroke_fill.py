"""Sparse masks (strokes) filled by the pixel classifier before training (ml.training.stroke_fill)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme, binary_scheme
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.strokes.pixel_classifier import PixelClassifier
from unet_desktop.ml.training.dataset import Sample, SampleSet
from unet_desktop.ml.training.stroke_fill import fill_strokes, is_sparse
from unet_desktop.ml.training.train import train
from unet_desktop.ml.training.train_config import TrainConfig


def disc_with_strokes(seed: int = 0, size: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, truth indices, strokes): a textured bright disc on a darker textured ground; one
    stroke well inside the disc and one ring well outside it, nothing near the boundary."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    radius = np.hypot(yy - size / 2, xx - size / 2)
    truth = (radius < 28).astype(np.uint8)
    image = rng.normal(70, 18, (size, size)) + truth * 90
    image = cv2.GaussianBlur(image.clip(0, 255).astype(np.uint8), (0, 0), 0.8)
    strokes = np.full(truth.shape, IGNORE_INDEX, np.uint8)
    cv2.line(strokes, (40, 48), (56, 48), 1, 3)  # inside: >= 16 px from the boundary
    cv2.circle(strokes, (48, 48), 44, 0, 2)  # outside: >= 14 px from it
    return image, truth, strokes


def sample(image: np.ndarray, target: np.ndarray, key: str = "disc.png") -> Sample:
    return Sample(key, torch.from_numpy(np.repeat(image[None], 3, 0)), torch.from_numpy(target))


def test_strokes_only_inside_and_outside_find_the_boundary():
    image, truth, strokes = disc_with_strokes()
    assert is_sparse([sample(image, strokes)])
    filled = fill_strokes([sample(image, strokes)], num_classes=2)[0].target.numpy()
    painted = strokes != IGNORE_INDEX
    assert (filled[painted] == strokes[painted]).all()  # strokes are kept as painted
    assert IGNORE_INDEX not in filled
    band = np.abs(np.hypot(*np.mgrid[-48:48, -48:48]) - 28) < 6  # the unpainted boundary band
    assert (filled[band] == truth[band]).mean() > 0.9
    assert (filled == truth).mean() > 0.95


def test_dense_masks_and_one_class_strokes_are_left_alone():
    image, truth, strokes = disc_with_strokes()
    assert not is_sparse([sample(image, truth)])
    only_inside = np.where(strokes == 1, 1, IGNORE_INDEX).astype(np.uint8)
    kept = fill_strokes([sample(image, only_inside)], 2)[0]
    assert torch.equal(kept.target, torch.from_numpy(only_inside))
    with pytest.raises(ValueError, match="two classes"):
        PixelClassifier.fit([image], [only_inside])


@pytest.mark.parametrize("mode", ["auto", "off"])
def test_training_on_strokes_fills_them_only_when_asked(tmp_path, mode, monkeypatch):
    seen = []
    from unet_desktop.ml.training import train_data

    real = train_data.fill_strokes
    monkeypatch.setattr(train_data, "fill_strokes",
                        lambda *a, **k: seen.append(1) or real(*a, **k))
    image, _, strokes = disc_with_strokes()
    scheme = LabelScheme("binary", binary_scheme().classes, 128)
    cfg = TrainConfig(out=tmp_path / "m.safetensors", arch={"name": "unet", "in_channels": 3,
                      "depth": 2, "base": 4}, epochs=1, size=32, batch_size=2, device="cpu",
                      patience=None, stroke_fill=mode, scale="native")
    reports = list(train(SampleSet([sample(image, strokes)], scheme), cfg))
    final = reports[-1]
    assert isinstance(final, FinalReport) and final.model_path is not None
    assert bool(seen) == (mode == "auto")
    summary = read_meta(final.model_path).data_summary
    assert summary["stroke_fill"] is (mode == "auto")
    assert summary["turned"] is True  # the fill meets the turns of a native-scale run
    # validated on its training images, whose strokes alone count there (never the fill)
    assert final.val_images == 0
    painted = float((strokes != IGNORE_INDEX).mean())
    assert painted < 0.5 and final.val_labelled == pytest.approx(painted)


def test_an_unknown_fill_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="stroke_fill"):
        TrainConfig(out=tmp_path / "m.safetensors", stroke_fill="sometimes")
