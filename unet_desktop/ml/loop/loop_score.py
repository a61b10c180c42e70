"""How good a prediction was against the mask the user saved: the learning curve's measure.

``score`` is the foreground Dice for binary masks (the class stored as 255, or 1), the pet
Dice for trimaps and the mean IoU for multi-class masks; ``changed_fraction`` is the share of
labelled pixels whose class the user changed (wrong pixels; the ISBI challenge's pixel error
is 1 - the binary foreground Dice, ``isbi_pixel_error`` of ``ml.metrics.summarize``). Pixels
left unlabeled in the saved mask count for neither; ``labelled_fraction`` says how many it
labels. A prediction with other classes is first put in the mask's scheme (trimap <-> binary,
``core.labels.adapt_labels``) where it can be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_desktop.core.labels import TRIMAP_FOREGROUND, LabelScheme, adapt_labels, adaptable
from unet_desktop.ml.metrics import stored_confusion, summarize


@dataclass(frozen=True)
class Agreement:
    score: float
    metric: str  # "dice" or "miou"
    dice: float | None
    miou: float | None
    changed_fraction: float
    labelled_fraction: float  # of the saved mask's pixels: 1.0 unless the scheme has unlabeled


HEADLINE_LABELS = {"miou": "mIoU", "dice": "Dice"}  # the headline metric as the user reads it


def headline_metric(scheme: LabelScheme) -> str:
    """The one measure a scheme is judged by: mean IoU for multi-class masks, else Dice."""
    return "miou" if scheme.kind == "multiclass" else "dice"


def _foreground_name(scheme: LabelScheme) -> str:
    wanted = TRIMAP_FOREGROUND if scheme.kind == "trimap" else max(c.value for c in scheme.classes)
    return next(c.name for c in scheme.classes if c.value == wanted)


def agreement(predicted: np.ndarray, corrected: np.ndarray, scheme: LabelScheme,
              predicted_scheme: LabelScheme | None = None) -> Agreement:
    """Compare a prediction (stored values of ``predicted_scheme``, default ``scheme``) with the
    saved mask; raises ``ValueError`` when the sizes differ. A prediction of classes that cannot
    become the mask's (the pets model on street scenes) gave the user nothing: it scores 0 and
    every labelled pixel counts as changed."""
    labelled = 1.0 if scheme.ignore_value is None else float(
        np.mean(corrected != scheme.ignore_value))
    if predicted_scheme is not None:
        if not adaptable(predicted_scheme, scheme):
            return Agreement(0.0, headline_metric(scheme), 0.0, 0.0, 1.0, labelled)
        predicted = adapt_labels(predicted, predicted_scheme, scheme)
    metrics = summarize(stored_confusion(predicted, corrected, scheme), scheme)
    miou = metrics["miou"]
    if scheme.kind == "multiclass":
        dice = metrics["mdice"]
    else:  # absent from both the prediction and the mask: they agree
        dice = metrics["dice"][_foreground_name(scheme)]
        dice = 1.0 if dice is None else dice
    accuracy = metrics["pixel_accuracy"]
    changed = 0.0 if accuracy is None else 1.0 - accuracy
    score = (miou if miou is not None else 1.0) if scheme.kind == "multiclass" else dice
    return Agreement(float(score), headline_metric(scheme), dice, miou, float(changed), labelled)
