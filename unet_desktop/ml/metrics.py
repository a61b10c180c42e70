"""Segmentation metrics from a confusion matrix: per-class IoU and Dice, mIoU, pixel accuracy.

Everything derives from one ``C x C`` matrix (rows = ground truth, columns = prediction) that is
accumulated over a data set with ignored pixels left out, so metrics are exact over all pixels
(not a mean of per-image means) and the matrix can be summed across processes.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from unet_desktop.core.labels import IGNORE_INDEX, TRIMAP_VALUES, LabelScheme

ArrayLike = np.ndarray | torch.Tensor


def confusion_matrix(
    pred: ArrayLike, target: ArrayLike, num_classes: int, ignore_index: int = IGNORE_INDEX
) -> torch.Tensor:
    """``C x C`` int64 counts of (target, pred) pairs over pixels whose target is not ignored.

    ``pred`` and ``target`` hold training indices of the same shape. A predicted value outside
    ``0..C-1`` is an error (a model never predicts the ignore index).
    """
    pred_t = torch.as_tensor(pred)
    target_t = torch.as_tensor(target, device=pred_t.device)
    if pred_t.shape != target_t.shape:
        raise ValueError(
            f"prediction {tuple(pred_t.shape)} and target {tuple(target_t.shape)} differ"
        )
    pred_t = pred_t.reshape(-1).long()
    target_t = target_t.reshape(-1).long()
    keep = target_t != ignore_index
    pred_t, target_t = pred_t[keep], target_t[keep]
    if pred_t.numel() and (int(pred_t.min()) < 0 or int(pred_t.max()) >= num_classes):
        raise ValueError(f"predicted indices outside 0..{num_classes - 1}")
    if target_t.numel() and int(target_t.max()) >= num_classes:
        raise ValueError(f"target indices outside 0..{num_classes - 1} (and not ignored)")
    counts = torch.bincount(target_t * num_classes + pred_t, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


class ConfusionMatrix:
    """Accumulates a confusion matrix over batches (on the device the predictions live on)."""

    def __init__(self, num_classes: int, ignore_index: int = IGNORE_INDEX) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.matrix: torch.Tensor | None = None

    def update(self, pred: ArrayLike, target: ArrayLike) -> None:
        cm = confusion_matrix(pred, target, self.num_classes, self.ignore_index)
        self.matrix = cm if self.matrix is None else self.matrix + cm.to(self.matrix.device)

    def counts(self) -> np.ndarray:
        if self.matrix is None:
            return np.zeros((self.num_classes, self.num_classes), dtype=np.int64)
        return self.matrix.cpu().numpy()


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def _nanless_mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return float(sum(present) / len(present)) if present else None


def pet_iou(cm: np.ndarray, scheme: LabelScheme) -> float | None:
    """Oxford-Pet binary foreground IoU from a trimap confusion matrix.

    Ground-truth border pixels are left out; a predicted border counts as foreground.
    """
    if scheme.kind != "trimap":
        raise ValueError(f"pet IoU needs a trimap scheme, not {scheme.kind}")
    index = {c.value: i for i, c in enumerate(scheme.classes)}
    fg, bg, border = (index[v] for v in TRIMAP_VALUES)
    true_pos = cm[fg, fg] + cm[fg, border]
    false_pos = cm[bg, fg] + cm[bg, border]
    false_neg = cm[fg, bg]
    return _ratio(true_pos, true_pos + false_pos + false_neg)


def summarize(cm: np.ndarray | torch.Tensor, scheme: LabelScheme) -> dict:
    """JSON-ready metrics from a confusion matrix, keyed by class name.

    ``iou``/``dice`` are per class; a class absent from both ground truth and prediction gets
    ``None`` and is left out of ``miou``/``mdice``. ``pet_iou`` is added for trimap schemes.

    Binary schemes get ``isbi_pixel_error``: the ISBI 2012 challenge's pixel error (Fiji's
    ``PixelError``, the figure the U-Net paper reports), 1 - the F-score, i.e. the Dice, of the
    pixels stored as 255 (cell interior; membrane is 0), pooled over all images. The challenge
    takes the best of the thresholds 0.0, 0.1, ..., 1.0 on submitted probabilities; here the
    decision is the model's own (argmax), no threshold chosen on the scored images, so the
    figure can only be at or above the challenge's. It is not the share of wrong pixels
    (``1 - pixel_accuracy``), which also counts every membrane pixel missed.
    """
    cm = np.asarray(torch.as_tensor(cm).cpu(), dtype=np.float64)
    c = scheme.num_classes
    if cm.shape != (c, c):
        raise ValueError(f"confusion matrix {cm.shape} does not match {c} classes")
    tp = np.diag(cm)
    gt = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    iou = [_ratio(tp[i], gt[i] + predicted[i] - tp[i]) for i in range(c)]
    dice = [_ratio(2 * tp[i], gt[i] + predicted[i]) for i in range(c)]
    metrics: dict = {
        "miou": _nanless_mean(iou),
        "mdice": _nanless_mean(dice),
        "pixel_accuracy": _ratio(tp.sum(), cm.sum()),
        "pixels": int(cm.sum()),
        "iou": dict(zip(scheme.names, iou)),
        "dice": dict(zip(scheme.names, dice)),
    }
    if scheme.kind == "trimap":
        metrics["pet_iou"] = pet_iou(cm, scheme)
    if scheme.kind == "binary":
        foreground = dice[[c.value for c in scheme.classes].index(scheme.foreground_value)]
        metrics["isbi_pixel_error"] = None if foreground is None else 1.0 - foreground
    return metrics


def format_table(metrics: dict, parent: dict | None = None) -> str:
    """Plain-text table of per-class IoU/Dice and the summary numbers (CLI output)."""

    def cell(value: float | None) -> str:
        return "   -  " if value is None or math.isnan(value) else f"{value:6.3f}"

    names = list(metrics["iou"])
    width = max([len("class"), *map(len, names)])
    lines = [f"{'class':<{width}}    IoU    Dice"]
    for name in names:
        iou, dice = cell(metrics["iou"][name]), cell(metrics["dice"][name])
        lines.append(f"{name:<{width}}  {iou}  {dice}")
    summary = [("mIoU", "miou"), ("mean Dice", "mdice"), ("pixel accuracy", "pixel_accuracy")]
    if "pet_iou" in metrics:
        summary.append(("pet IoU", "pet_iou"))
    if "isbi_pixel_error" in metrics:
        summary.append(("ISBI pixel error", "isbi_pixel_error"))
    lines.append("")
    for label, key in summary:
        line = f"{label:<16} {cell(metrics.get(key))}"
        if parent is not None:
            line += f"   (parent {cell(parent.get(key)).strip()})"
        lines.append(line)
    return "\n".join(lines)


def stored_confusion(predicted: np.ndarray, truth: np.ndarray, scheme: LabelScheme) -> np.ndarray:
    """Confusion matrix of two stored masks (files' values); ignored ground truth left out."""
    if predicted.shape != truth.shape:
        raise ValueError(f"prediction {predicted.shape} and mask {truth.shape} differ in size")
    pred_index = scheme.to_index(predicted)
    true_index = scheme.to_index(truth)
    return confusion_matrix(pred_index, true_index, scheme.num_classes).numpy()
