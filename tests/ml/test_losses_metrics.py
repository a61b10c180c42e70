"""Losses and metrics on small hand-made tensors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unet_desktop.core.labels import IGNORE_INDEX, binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.ml.metrics import (
    ConfusionMatrix,
    confusion_matrix,
    format_table,
    stored_confusion,
    summarize,
)
from unet_desktop.ml.training.losses import (
    SegmentationLoss,
    class_weights_from_counts,
    masked_cross_entropy,
    soft_dice_loss,
)


def _random_batch(seed: int = 0, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, classes, 6, 5, generator=g)
    target = torch.randint(0, classes, (2, 6, 5), generator=g)
    return logits, target


def test_cross_entropy_matches_torch_when_pixels_are_labelled():
    logits, target = _random_batch()
    target[0, :2] = IGNORE_INDEX
    weight = torch.tensor([0.5, 1.0, 2.0])
    expected = F.cross_entropy(logits, target, weight=weight, ignore_index=IGNORE_INDEX)
    assert torch.allclose(masked_cross_entropy(logits, target, weight), expected)
    expected = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX)
    assert torch.allclose(masked_cross_entropy(logits, target), expected)


def test_all_ignored_batch_gives_zero_loss_not_nan():
    logits, target = _random_batch()
    target[:] = IGNORE_INDEX
    loss = SegmentationLoss(3)(logits.requires_grad_(), target)
    loss.backward()
    assert loss.item() == 0.0
    assert torch.count_nonzero(logits.grad) == 0


@pytest.mark.parametrize("ce_weight,dice_weight", [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)])
def test_ignored_pixels_affect_neither_loss_nor_gradient(ce_weight, dice_weight):
    logits, target = _random_batch(1)
    ignored = torch.zeros_like(target, dtype=torch.bool)
    ignored[:, 1:4, 2:] = True
    target[ignored] = IGNORE_INDEX
    loss_fn = SegmentationLoss(3, class_weights=[1.0, 2.0, 0.5], ce_weight=ce_weight,
                               dice_weight=dice_weight)

    x = logits.clone().requires_grad_()
    loss = loss_fn(x, target)
    loss.backward()
    grad_at_ignored = x.grad.permute(0, 2, 3, 1)[ignored]
    assert torch.count_nonzero(grad_at_ignored) == 0
    assert torch.count_nonzero(x.grad) > 0

    # Arbitrary changes of the logits at ignored pixels leave the loss unchanged.
    changed = logits.clone().permute(0, 2, 3, 1)
    changed[ignored] = torch.randn(int(ignored.sum()), 3) * 10
    assert torch.allclose(loss_fn(changed.permute(0, 3, 1, 2), target), loss)


def test_dice_loss_is_zero_for_confident_correct_prediction_and_high_when_wrong():
    target = torch.tensor([[[0, 1], [2, 1]]])
    perfect = F.one_hot(target, 3).permute(0, 3, 1, 2).float() * 100
    assert soft_dice_loss(perfect, target, smooth=1e-6).item() == pytest.approx(0.0, abs=1e-4)
    wrong = F.one_hot((target + 1) % 3, 3).permute(0, 3, 1, 2).float() * 100
    assert soft_dice_loss(wrong, target, smooth=1e-6).item() == pytest.approx(1.0, abs=1e-4)


def test_loss_rejects_mismatched_shapes_and_weights():
    with pytest.raises(ValueError, match="3 classes but 2 class weights"):
        SegmentationLoss(3, class_weights=[1.0, 1.0])
    with pytest.raises(ValueError, match="logits must be"):
        SegmentationLoss(2)(torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long))


def test_class_weights_from_counts():
    w = class_weights_from_counts([900, 100, 0])
    assert w[2] == 0
    assert w[1] / w[0] == pytest.approx(3.0)  # sqrt(900 / 100)
    assert w[:2].mean() == pytest.approx(1.0)


def test_confusion_matrix_excludes_ignored_pixels():
    target = np.array([[0, 0, 1], [1, 2, IGNORE_INDEX]], dtype=np.uint8)
    pred = np.array([[0, 1, 1], [1, 0, 2]], dtype=np.uint8)
    cm = confusion_matrix(pred, target, 3).numpy()
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_summary_on_hand_made_matrix():
    scheme = multiclass_scheme(["a", "b", "c"])
    acc = ConfusionMatrix(3)
    target = torch.tensor([0, 0, 0, 0, 1, 1, IGNORE_INDEX])
    pred = torch.tensor([0, 0, 0, 1, 1, 0, 2])
    acc.update(pred[:3], target[:3])
    acc.update(pred[3:], target[3:])
    m = summarize(acc.counts(), scheme)
    # class a: tp 3, fn 1, fp 1 -> IoU 3/5, Dice 6/8; class b: tp 1, fn 1, fp 1 -> 1/3, 2/4
    assert m["iou"]["a"] == pytest.approx(0.6)
    assert m["iou"]["b"] == pytest.approx(1 / 3)
    assert m["dice"]["a"] == pytest.approx(0.75)
    assert m["dice"]["b"] == pytest.approx(0.5)
    assert m["iou"]["c"] is None  # absent from ground truth and prediction
    assert m["miou"] == pytest.approx((0.6 + 1 / 3) / 2)
    assert m["pixel_accuracy"] == pytest.approx(4 / 6)
    assert m["pixels"] == 6
    assert "pet_iou" not in m


def test_pet_iou_ignores_true_border_and_counts_predicted_border_as_pet():
    scheme = trimap_scheme()  # indices: 0 pet, 1 background, 2 border
    target = np.array([0, 0, 0, 1, 1, 2, 2])
    pred = np.array([0, 2, 1, 1, 2, 1, 0])
    m = summarize(confusion_matrix(pred, target, 3), scheme)
    # pet pixels: two hit (one as border), one missed; background: one predicted as border.
    assert m["pet_iou"] == pytest.approx(2 / 4)


def test_perfect_binary_prediction_scores_one_and_table_prints():
    scheme = binary_scheme()
    target = np.array([[0, 1], [1, 1]])
    m = summarize(confusion_matrix(target, target, 2), scheme)
    assert m["miou"] == m["mdice"] == m["pixel_accuracy"] == 1.0
    table = format_table(m, parent={**m, "miou": 0.5})
    assert "foreground" in table and "parent 0.500" in table


def test_isbi_pixel_error_is_one_minus_the_f_score_of_the_255_pixels():
    scheme = binary_scheme(("membrane", "cell"))  # stored 0 = membrane, 255 = cell interior
    truth = np.array([[0, 0, 255, 255, 255], [255, 255, 255, 255, 255]], dtype=np.uint8)
    pred = np.array([[0, 255, 255, 255, 0], [255, 255, 255, 0, 255]], dtype=np.uint8)
    m = summarize(stored_confusion(pred, truth, scheme), scheme)
    # cell pixels: 6 of 8 found, 1 membrane pixel called cell: F = 2*6 / (8 + 7) = 0.8
    assert m["isbi_pixel_error"] == pytest.approx(1 - 12 / 15)
    # not the share of wrong pixels (3 of 10), which counts the membrane's misses too
    assert 1 - m["pixel_accuracy"] == pytest.approx(0.3)
    assert "ISBI pixel error" in format_table(m)
    # the cell class decides, whatever the class order: swapping the roles changes the figure
    swapped = summarize(stored_confusion(255 - pred, 255 - truth, scheme), scheme)
    assert swapped["isbi_pixel_error"] == pytest.approx(1 - 2 / 5)
    assert "isbi_pixel_error" not in summarize(np.eye(3), trimap_scheme())


def test_predictions_outside_the_classes_are_rejected():
    with pytest.raises(ValueError, match="outside"):
        confusion_matrix(np.array([3]), np.array([0]), 3)
    assert math.isclose(summarize(np.zeros((2, 2)), binary_scheme())["pixels"], 0)
