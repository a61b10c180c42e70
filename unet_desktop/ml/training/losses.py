"""Segmentation losses: cross-entropy plus soft Dice, both blind to ignored pixels.

Targets are training indices (``B x H x W`` int64) where ``IGNORE_INDEX`` marks pixels nobody
labelled (partial/scribble labels, a trimap border trained as "don't care", CamVid's
"Unlabelled"). Ignored pixels contribute nothing to the loss, hence nothing to the gradient.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from unet_desktop.core.labels import IGNORE_INDEX


def class_weights_from_counts(
    counts: Sequence[int] | torch.Tensor, power: float = 0.5
) -> torch.Tensor:
    """Weights proportional to ``frequency ** -power`` (0.5: inverse square root), mean 1.

    Classes that never occur get weight 0 (they cannot be learned from this data anyway).
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    if counts.ndim != 1 or counts.numel() == 0:
        raise ValueError(f"class counts must be a non-empty 1-D list, got {tuple(counts.shape)}")
    present = counts > 0
    if not present.any():
        raise ValueError("no labelled pixels: cannot derive class weights")
    weights = torch.zeros_like(counts)
    weights[present] = (counts[present] / counts.sum()) ** -power
    weights[present] /= weights[present].mean()
    return weights.float()


def masked_cross_entropy(
    logits: torch.Tensor,
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> torch.Tensor:
    """(Weighted) mean cross-entropy over labelled pixels; 0 (not NaN) when none is labelled.

    Same value as ``F.cross_entropy(..., reduction="mean")`` whenever a pixel is labelled, without
    a host sync to test for the all-ignored case.
    """
    total = F.cross_entropy(
        logits, target, weight=weight, ignore_index=ignore_index, reduction="sum"
    )
    valid = target != ignore_index
    if weight is None:
        denom = valid.sum()
    else:
        denom = (weight[target.clamp(max=logits.shape[1] - 1)] * valid).sum()
    return total / denom.clamp_min(1e-6)


def soft_dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    ignore_index: int = IGNORE_INDEX,
    smooth: float = 1.0,
) -> torch.Tensor:
    """1 - mean over classes of the soft Dice coefficient, computed over the whole batch.

    Softmax probabilities and one-hot targets are both zeroed at ignored pixels, so those pixels
    change neither the numerator nor the denominator. ``smooth`` keeps classes absent from both
    target and prediction at Dice 1 and the gradient finite.
    """
    num_classes = logits.shape[1]
    valid = (target != ignore_index).unsqueeze(1)  # B x 1 x H x W
    probs = logits.float().softmax(dim=1) * valid
    safe_target = torch.where(valid.squeeze(1), target, torch.zeros_like(target))
    one_hot = F.one_hot(safe_target, num_classes).permute(0, 3, 1, 2).to(probs.dtype) * valid
    dims = (0, 2, 3)
    intersection = (probs * one_hot).sum(dims)
    cardinality = probs.sum(dims) + one_hot.sum(dims)
    dice = (2.0 * intersection + smooth) / (cardinality + smooth)
    return 1.0 - dice.mean()


class SegmentationLoss(nn.Module):
    """``ce_weight * CE + dice_weight * Dice`` with an ignore index and optional class weights."""

    def __init__(
        self,
        num_classes: int,
        class_weights: Sequence[float] | torch.Tensor | None = None,
        ce_weight: float = 1.0,
        dice_weight: float = 1.0,
        ignore_index: int = IGNORE_INDEX,
        smooth: float = 1.0,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if ce_weight < 0 or dice_weight < 0 or ce_weight + dice_weight == 0:
            raise ValueError("loss weights must be >= 0 and not both 0")
        weight = None
        if class_weights is not None:
            weight = torch.as_tensor(class_weights, dtype=torch.float32)
            if weight.shape != (num_classes,):
                raise ValueError(
                    f"{num_classes} classes but {weight.numel()} class weights were given"
                )
        self.register_buffer("class_weights", weight, persistent=False)
        self.num_classes = num_classes
        self.ce_weight = ce_weight
        self.dice_weight = dice_weight
        self.ignore_index = ignore_index
        self.smooth = smooth

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if logits.ndim != 4 or logits.shape[1] != self.num_classes:
            raise ValueError(
                f"logits must be B x {self.num_classes} x H x W, got {tuple(logits.shape)}"
            )
        if target.shape != (logits.shape[0], *logits.shape[2:]):
            raise ValueError(
                f"target shape {tuple(target.shape)} does not match logits {tuple(logits.shape)}"
            )
        logits = logits.float()  # losses in fp32 even under autocast
        target = target.long()
        loss = logits.new_zeros(())
        if self.ce_weight:
            ce = masked_cross_entropy(logits, target, self.class_weights, self.ignore_index)
            loss = loss + self.ce_weight * ce
        if self.dice_weight:
            dice = soft_dice_loss(logits, target, self.ignore_index, self.smooth)
            loss = loss + self.dice_weight * dice
        return loss
