"""The edge-aware smoothness loss on unlabeled pixels (ml.training.unlabeled_losses)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.ml.test_stroke_fill import disc_with_strokes, sample
from unet_desktop.core.labels import IGNORE_INDEX, LabelScheme, binary_scheme
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training import train_loop
from unet_desktop.ml.training.dataset import SampleSet
from unet_desktop.ml.training.train import train
from unet_desktop.ml.training.train_config import TrainConfig
from unet_desktop.ml.training.unlabeled_losses import edge_aware_smoothness


def cell_with_strokes(size: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, truth, strokes) like an EM cell: the same textured grey inside and outside a disc
    whose edge is a dark line 3 px wide (a membrane), so no pixel's own intensity tells the sides
    apart; one stroke well inside, one ring well outside, nothing near the edge."""
    rng = np.random.default_rng(0)
    image = rng.normal(150, 15, (size, size))
    cv2.circle(image, (size // 2, size // 2), 28, 40, 3)
    image = cv2.GaussianBlur(image.clip(0, 255).astype(np.uint8), (0, 0), 0.8)
    truth = (np.hypot(*np.mgrid[:size, :size] - size / 2) < 28).astype(np.uint8)
    strokes = np.full(truth.shape, IGNORE_INDEX, np.uint8)
    cv2.line(strokes, (40, 48), (56, 48), 1, 3)
    cv2.circle(strokes, (48, 48), 44, 0, 2)
    return image, truth, strokes


def fit_free_logits(image: np.ndarray, strokes: np.ndarray, smoothness: float) -> np.ndarray:
    """Class of every pixel after fitting one free logit pair per pixel (no network, so nothing
    but the loss can carry the strokes' labels to unpainted pixels) to cross-entropy on the
    strokes plus ``smoothness`` x the edge-aware loss."""
    x = torch.from_numpy(image).float()[None, None]
    x = (x - x.mean()) / x.std()
    target = torch.from_numpy(strokes).long()[None]
    logits = torch.zeros(1, 2, *image.shape, requires_grad=True)  # undecided: no class favoured
    optimizer = torch.optim.Adam([logits], lr=0.1)
    for _ in range(150):
        loss = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX)
        if smoothness:
            loss = loss + smoothness * edge_aware_smoothness(logits, target, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return logits.detach().argmax(1)[0].numpy()


def test_strokes_only_inside_and_outside_find_the_boundary():
    image, truth, strokes = cell_with_strokes()
    from_edge = np.abs(np.hypot(*np.mgrid[-48:48, -48:48]) - 28)
    off_edge = from_edge >= 2  # the membrane itself is neither side
    band = off_edge & (from_edge < 8)
    unpainted = (strokes == IGNORE_INDEX) & off_edge
    with_loss = fit_free_logits(image, strokes, smoothness=5.0)
    assert (with_loss[band] == truth[band]).mean() > 0.95
    assert (with_loss[unpainted] == truth[unpainted]).mean() > 0.95
    without = fit_free_logits(image, strokes, smoothness=0.0)  # the strokes say nothing there
    assert (without[band] == truth[band]).mean() < 0.7


def test_fully_labelled_pixels_add_nothing_and_edges_cost_less_than_flat_ground():
    image, truth, _ = disc_with_strokes()
    x = torch.from_numpy(image).float()[None, None]
    truth_logits = 8.0 * F.one_hot(torch.from_numpy(truth).long(), 2).permute(2, 0, 1)[None]
    labelled = torch.from_numpy(truth).long()[None]
    assert edge_aware_smoothness(truth_logits.float(), labelled, x) == 0
    unlabeled = torch.full_like(labelled, IGNORE_INDEX)
    on_edge = edge_aware_smoothness(truth_logits.float(), unlabeled, x)
    shifted = torch.roll(truth_logits, 12, dims=3).float()  # a boundary across flat ground
    assert on_edge < edge_aware_smoothness(shifted, unlabeled, x)
    assert on_edge == pytest.approx(float(on_edge))  # a finite number


def test_training_adds_the_smoothness_loss_on_the_pixels_the_fill_left_unlabeled(tmp_path,
                                                                                 monkeypatch):
    unlabeled_seen = []
    real = train_loop.edge_aware_smoothness

    def spy(logits, target, images):
        unlabeled_seen.append(int((target == IGNORE_INDEX).sum()))
        return real(logits, target, images)

    monkeypatch.setattr(train_loop, "edge_aware_smoothness", spy)
    image, _, strokes = disc_with_strokes()
    scheme = LabelScheme("binary", binary_scheme().classes, 128)
    cfg = TrainConfig(out=tmp_path / "m.safetensors", arch={"name": "unet", "in_channels": 3,
                      "depth": 2, "base": 4}, epochs=1, size=32, batch_size=2, device="cpu",
                      patience=None, fill_min_confidence=0.9, smoothness_weight=1.0)
    final = list(train(SampleSet([sample(image, strokes)], scheme), cfg))[-1]
    assert isinstance(final, FinalReport) and final.model_path is not None
    assert unlabeled_seen and sum(unlabeled_seen) > 0  # every step, on the unsure pixels
    with pytest.raises(ValueError, match="smoothness_weight"):
        TrainConfig(out=tmp_path / "x.safetensors", smoothness_weight=-1)
