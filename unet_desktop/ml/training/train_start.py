"""The model a training run starts from, and what the new model inherits.

A fine-tune (``config.init``) loads its parent's file: the child sees its images as the parent
did (input rule), keeps its training size and scale unless asked otherwise, and must have the
masks' classes. A folder without a task guessed its class names, so the parent's names stand; a
task's own classes renamed since (``renamed_classes``) are still the parent's (its rows reordered
by stored value if the task also reordered them); other classes
need ``new_classes`` (the head's rows replaced by name, ``ml.models.new_classes``, every other
weight kept). Without ``init`` a new architecture is built (ImageNet encoder by default).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.image_files import stored_above_8_bits
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.input_rule import DEFAULT_NEW, InputRule, fixed_range
from unet_desktop.core.io.stacks import probe_tiff
from unet_desktop.core.labels import LabelScheme
from unet_desktop.ml.models.architecture import build_model, pretrained_arch
from unet_desktop.ml.models.modelfile import ModelMeta, load_model_file
from unet_desktop.ml.models.new_classes import ClassTransfer, replace_head
from unet_desktop.ml.training.dataset import SampleSet, training_entries
from unet_desktop.ml.training.train_config import DEFAULT_SIZE, TrainConfig


@dataclass
class Start:
    """The initial model and what the run's new model will carry."""

    model: nn.Module
    parent: ModelMeta | None  # the header of the model fine-tuned; None for a new model
    arch: dict
    scheme: LabelScheme  # the new model's classes (the masks')
    input_rule: InputRule
    size: int
    scale: str
    transfer: ClassTransfer | None = None  # set when the parent's classes are replaced


def _describe(scheme: LabelScheme) -> str:
    classes = ", ".join(f"{c.value} {c.name}" for c in scheme.classes)
    return f"{scheme.kind} ({classes})"


def _check_same_classes(model_scheme: LabelScheme, data_scheme: LabelScheme, path: Path) -> None:
    if not model_scheme.same_classes(data_scheme):
        raise ValueError(
            f"{path}: the model predicts {_describe(model_scheme)} but the training masks are "
            f"{_describe(data_scheme)}; to replace the model's classes by the masks' (keeping "
            "every other weight), fine-tune with new classes (--new-classes)"
        )


def _names_unknown(data: Workspace | SampleSet) -> bool:
    """The masks' class names are guessed (a folder without a task), not the user's."""
    return isinstance(data, Workspace) and data.task is None


def ranged_by_the_rule(entry: ImageEntry) -> bool:
    """Whether the data-range rule ranges the image's stored type (headers tell): wider than
    8 bits, or a signed 8-bit TIFF (values below 0 give the rule a span); uint8 and boolean
    images are taken as they are (:func:`fixed_range` passes them over)."""
    if entry.page is not None or entry.image_path.suffix.lower() in (".tif", ".tiff"):
        return probe_tiff(entry.image_path).dtype not in ("uint8", "bool")
    return stored_above_8_bits(entry)


def wide_images(ws: Workspace, entries: list[ImageEntry]) -> Iterator[np.ndarray]:
    """The stored values of those entries' images that the data-range rule ranges
    (:func:`ranged_by_the_rule`), for :func:`fixed_range`; an unreadable one is passed over
    (loading reports it)."""
    for entry in entries:
        try:
            if ranged_by_the_rule(entry):
                yield ws.load_raw(entry.key)
        except (FileError, OSError):
            continue


def starting_model(data: Workspace | SampleSet, cfg: TrainConfig) -> Start:
    """The parent of ``cfg.init`` (its classes checked, replaced or renamed) or a new model."""
    data_scheme = data.scheme
    if cfg.init is not None:
        model, meta = load_model_file(cfg.init)
        arch, scheme, transfer = meta.arch, meta.scheme, None
        same_values = meta.scheme.same_values(data_scheme)
        if same_values and _names_unknown(data):
            data_scheme = meta.scheme  # a folder without a task: its names are guesses
        if same_values and cfg.renamed_classes:  # the task's own classes, renamed since
            scheme = data_scheme
        elif meta.scheme.same_value_set(data_scheme) and cfg.renamed_classes:  # and reordered
            transfer = replace_head(model, meta.scheme, data_scheme, by_value=True)
            scheme = data_scheme
        if cfg.new_classes and not scheme.same_classes(data_scheme):
            torch.manual_seed(cfg.seed)  # the same fresh head rows on every process
            transfer = replace_head(model, meta.scheme, data_scheme)
            arch = {**meta.arch, "num_classes": data_scheme.num_classes}
            scheme = data_scheme
        _check_same_classes(scheme, data_scheme, cfg.init)
        # the same classes (or renamed): the child carries the folder's scheme (its colours and
        # its unlabeled value, so the folder's sparse masks read with the child's scheme); a
        # fine-tuned model sees its images as its parent did
        return Start(model, meta, arch, data_scheme, meta.rule, cfg.size or meta.train_size,
                     cfg.scale or meta.scale, transfer)
    arch = dict(cfg.arch or pretrained_arch(data_scheme.num_classes))
    arch.setdefault("in_channels", 3)
    arch.setdefault("num_classes", data_scheme.num_classes)
    if arch["num_classes"] != data_scheme.num_classes:
        raise ValueError(f"the architecture has {arch['num_classes']} outputs but the masks "
                         f"have {data_scheme.num_classes} classes")
    rule = InputRule.from_dict(cfg.input_rule or {"kind": DEFAULT_NEW})
    if isinstance(data, Workspace):  # a loop's samples come with the rule fixed already
        rule = fixed_range(rule, wide_images(data, training_entries(data, cfg.all_masks,
                                                                    cfg.only)))
    torch.manual_seed(cfg.seed)  # the same initial weights on every process
    return Start(build_model(arch), None, arch, data_scheme, rule, cfg.size or DEFAULT_SIZE,
                 cfg.scale or "fit")
