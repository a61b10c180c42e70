"""The parent model's own prediction as a second opinion in the fill of sparse masks.

A fine-tune on strokes (a learning-loop round, the Fine-tune dialog, ``train --init``) starts
from a model that already predicts the task's classes. On an image the user corrected with a few
strokes, that model's prediction is far better than a forest fitted on those few strokes: on
ISBI slices that got only the simulated user's 40 corrective disks, the forest's fill was
wrong 0.16-0.25 of the time while the model being corrected was wrong about 0.11 of the time on
unseen slices (docs/quality.md, "Moving on to new slices"). So where the parent knows every
class of the task, the fill averages its probabilities with the forest's
(``ml.training.stroke_fill``) on images that hold only corrections (less than
:data:`CORRECTIONS_BELOW` of their pixels painted); a new model, or a parent some of whose
classes are new to it, leaves the forest alone. A scribbled image (the first strokes of a task
paint 7-9 %) is filled by the forest alone: there the parent, trained on that very fill, only
echoes it (averaging it in on the two scribbled ISBI slices over five corrective rounds: 0.109
wrong pixels on unseen slices against 0.106 for the forest alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from unet_desktop.core.labels import LabelScheme
from unet_desktop.ml.inference.predictor import Predictor, as_model_channels
from unet_desktop.ml.models.new_classes import ClassTransfer
from unet_desktop.ml.training.dataset import Sample
from unet_desktop.ml.training.stroke_fill import labelled_fraction, sample_image

CORRECTIONS_BELOW = 0.02  # painted share under which an image holds corrections, not scribbles


def parent_knows_the_classes(init: Path | None, transfer: ClassTransfer | None) -> bool:
    """A parent whose head gives every class of the task (the same classes, or all carried)."""
    return init is not None and (transfer is None or transfer.complete)


def holds_only_corrections(sample: Sample) -> bool:
    return labelled_fraction([sample]) < CORRECTIONS_BELOW


def parent_probabilities(init: Path, transfer: ClassTransfer | None, scheme: LabelScheme,
                         samples: Sequence[Sample], device: str | torch.device = "cpu",
                         ) -> list[np.ndarray | None]:
    """The parent's num_classes x H x W probabilities of each sample's image (the model's input
    already), in the task's class order, for the samples that hold only corrections (None for
    the others). ``device``: the training's, where the parent predicts."""
    wanted = [i for i, s in enumerate(samples) if holds_only_corrections(s)]
    opinions: list[np.ndarray | None] = [None] * len(samples)
    if not wanted:
        return opinions
    predictor = Predictor.from_file(init, device=device, engine="torch")
    if transfer is None:
        order = list(range(scheme.num_classes))
    else:
        parent_names = list(transfer.parent_scheme.names)
        order = [parent_names.index(transfer.carried[name]) for name in scheme.names]
    inputs = [as_model_channels(sample_image(samples[i]), predictor.meta.in_channels)
              for i in wanted]
    for i, p in zip(wanted, predictor.predict_inputs(inputs, probs=True), strict=True):
        opinions[i] = p.probs[order]
    return opinions
