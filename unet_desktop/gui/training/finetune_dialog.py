"""Training > Fine-tune on Corrected Images...: the few settings that matter, as a TrainConfig.

Everything else keeps ``TrainConfig``'s defaults, and the few-image recipe
(``ml.training.few_image_recipe``) decides the batch and schedule. By default a run lasts its time limit
(3 minutes with at most 10 corrected images, else 10), with no epoch count, and a folder of few
images holds none out; early stopping only with enough validation images (the dialog says so). The new model goes to the user's model folder
under a new name: training never overwrites the model in use. In a folder with a task, a
:class:`TaskPlan` says instead where the model goes, its name (``cells-v3``) and what it starts
from: the task's model, the model file the task started from (classes mapped by name), or a new
model from the ImageNet-pretrained encoder (``init=None, arch=None``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.core.io.paths import first_free_path

FINE_TUNE_EPOCHS = 20  # shown when the user turns an epoch count on
MAX_NAMED = 3  # images named in the validation line; the rest counted
SCALE_CHOICES = (  # core.io.model_header.SCALES, as the dialog words them
    ("fit", "Whole image, resized (objects: pets, cars, organs)"),
    ("native", "Native pixels, in tiles (thin structures: membranes, vessels, cracks)"),
)


@dataclass(frozen=True)
class EngineDefaults:
    """The training engine's defaults, read from ``ml.training.train_config`` (the one place they live)."""

    fine_tune_lr: float
    from_scratch_lr: float
    size: int
    budget_minutes: float  # the run's time limit with many images

    @classmethod
    def read(cls) -> EngineDefaults:
        """Imports ``ml.training.train_config`` (torch): call it when the dialog opens, by which time the
        model load has imported torch on the worker thread, not at window start."""
        from unet_desktop.ml.training import train_config as tc

        return cls(tc.FINE_TUNE_LR, tc.FROM_SCRATCH_LR, tc.DEFAULT_SIZE, tc.DEFAULT_BUDGET_MINUTES)

    def minutes(self, images: int) -> float:
        """The default time limit for a run on ``images`` corrected images."""
        from unet_desktop.ml.training.few_image_recipe import FEW_IMAGE_MINUTES, is_few

        return FEW_IMAGE_MINUTES if is_few(images) else self.budget_minutes

    @staticmethod
    def val_fraction(images: int) -> float:
        from unet_desktop.ml.training.few_image_recipe import default_val_fraction

        return default_val_fraction(images)

    def lr(self, from_current: bool) -> float:
        return self.fine_tune_lr if from_current else self.from_scratch_lr


@dataclass(frozen=True)
class TaskPlan:
    """A fine-tune of the open folder's task (made by the TaskController)."""

    out: Path
    name: str  # e.g. "cells-v3"
    init: Path | None  # None: a new model from the ImageNet-pretrained encoder
    new_classes: bool  # map the init model's classes onto the task's by name
    origin: str  # one line for the dialog: what it starts from
    scale: str = "fit"  # of a new model (init None): the task's; a model file keeps its own
    input_rule: dict | None = None  # of a new model: the task's (core.io.input_rule)
    # the folder's frozen validation set (ml.loop.folder_models.FolderModels.holdout): it validates
    # every run of the task, whatever the validation fraction; None: not known (the fraction)
    holdout: tuple[str, ...] | None = None


@dataclass
class FinetuneSettings:
    """What the dialog asks; None leaves the value to the training engine's defaults."""

    epochs: int | None = None  # None: the time limit governs the run
    max_minutes: float | None = None  # None with epochs None: the dialog's default limit
    lr: float | None = None  # engine default: smaller when fine-tuning than for a new model
    size: int | None = None  # engine default: the parent's training size
    val_fraction: float | None = None
    from_current: bool = True  # else a new model from the ImageNet-pretrained encoder
    scale: str | None = None  # engine default: the parent's, else "fit"


def recipe_note(images: int, val_fraction: float | None = None, frozen: bool = False) -> str:
    """What the few-image recipe does with ``images`` corrected images (and the validation
    fraction shown; ``frozen``: a task folder's frozen validation set decides instead), in the
    dialog's words."""
    from unet_desktop.ml.training.few_image_recipe import (
        FEW_IMAGES,
        MIN_EARLY_STOPPING_IMAGES,
        is_few,
    )

    rule = (f"Early stopping only with at least {MIN_EARLY_STOPPING_IMAGES} validation images "
            "held out; with fewer the run lasts its time limit.")
    unvalidated = ("With validation fraction 0 every image trains and the result is reported "
                   "as not validated (no figure on images it did not learn from). ")
    if frozen:
        unvalidated = ""  # said by the validation line
    if is_few(images):
        return (f"At most {FEW_IMAGES} images: the learning loop's recipe (batch 4 at the full "
                "learning rate" + ("" if frozen else ", nothing held out by default") + "). "
                + (unvalidated if not val_fraction else "") + rule)
    return (unvalidated if val_fraction == 0 else "") + rule


def output_path(folder: Path, model: Any | None) -> Path:
    """``<folder>/<name>-<UTC time>.safetensors``, never an existing file."""
    stem = "model"
    if model is not None:
        stem = model.meta.name or (model.path.stem if model.path else stem)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return first_free_path(folder, f"{stem}-{stamp}", ".safetensors")


def replaced_classes(model: Any | None, data_scheme: Any | None) -> str | None:
    """One line saying that the model's classes give way to the folder's, or None if they match."""
    if model is None or data_scheme is None:
        return None
    ours = model.meta.scheme
    if ours.same_values(data_scheme):  # no task: the folder's class names are guesses
        return None
    return (f"The model's classes ({ours.kind}: {', '.join(ours.names)}) will be replaced by "
            f"this folder's ({data_scheme.kind}: {', '.join(data_scheme.names)}).")


def task_train_config(settings: FinetuneSettings, plan: TaskPlan, device: str = "auto",
                      **overrides: Any) -> Any:
    """The ``TrainConfig`` of a task's fine-tune (``plan``)."""
    from unet_desktop.ml.training.train_config import TrainConfig

    options: dict[str, Any] = {
        "out": plan.out, "name": plan.name, "init": plan.init, "new_classes": plan.new_classes,
        "epochs": settings.epochs, "max_minutes": settings.max_minutes, "lr": settings.lr,
        "size": settings.size, "val_fraction": settings.val_fraction, "device": device,
        "scale": settings.scale, "input_rule": plan.input_rule,
    }
    options.update(overrides)
    return TrainConfig(**options)


def train_config(settings: FinetuneSettings, model: Any | None, out: Path, device: str = "auto",
                 data_scheme: Any | None = None, **overrides: Any) -> Any:
    """The ``TrainConfig`` for these settings; ``model`` is the current LoadedModel and
    ``data_scheme`` the open folder's label scheme (other classes than the model's: the new
    model gets the folder's)."""
    from unet_desktop.ml.training.train_config import TrainConfig

    if model is None:
        raise ValueError("load a model first: fine-tuning starts from it or from its architecture")
    if settings.from_current and model.path is None:
        raise ValueError("the current model has no file to start from; start a new model from "
                         "the ImageNet-pretrained encoder")
    options: dict[str, Any] = {
        "out": out, "epochs": settings.epochs, "max_minutes": settings.max_minutes,
        "lr": settings.lr, "size": settings.size, "device": device, "name": model.meta.name,
        "scale": settings.scale,
    }
    if settings.val_fraction is not None:
        options["val_fraction"] = settings.val_fraction
    new_classes = replaced_classes(model, data_scheme) is not None
    if settings.from_current:
        options["init"] = model.path
        options["new_classes"] = new_classes
    else:  # a new model from the ImageNet-pretrained encoder, with the folder's classes
        options["arch"] = None
    options.update(overrides)
    return TrainConfig(**options)


def validation_text(keys: list[str], fraction: float, seed: int = 0) -> str:
    """Which of the labelled images ``keys`` a run with this validation fraction holds out
    (the training engine's own split, ``ml.training.dataset.split_indices``)."""
    from unet_desktop.ml.training.dataset import split_indices

    def names(indices: list[int]) -> str:
        shown = [keys[i].rsplit("/", 1)[-1] for i in indices[:MAX_NAMED]]
        more = len(indices) - len(shown)
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")

    if not keys:
        return ""
    train, val = split_indices(keys, fraction, seed)
    if not val:
        why = "the fraction is 0" if fraction == 0 else "fewer than 2 labelled images"
        return (f"No image validates ({why}): the validation scores will be measured on the "
                "training images.")
    return (f"Validates on {names(val)} ({len(val)} of {len(keys)}); trains on "
            f"{names(train)}.")



def holdout_text(keys: list[str], holdout: tuple[str, ...]) -> str:
    """Which of the labelled images ``keys`` the folder's frozen validation set holds out: the
    same images for every run of the task (ml.training.train: below 2, not validated)."""
    from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES

    held = [k for k in keys if k in set(holdout)]
    named = ", ".join(k.rsplit("/", 1)[-1] for k in held[:MAX_NAMED]) \
        + (f" and {len(held) - MAX_NAMED} more" if len(held) > MAX_NAMED else "")
    if len(held) < MIN_VALIDATION_IMAGES:
        have = f"only {named}" if held else "none yet"
        return (f"This folder's validation set (1 in k corrected images, kept for every run) "
                f"has {have}: fewer than {MIN_VALIDATION_IMAGES}, so the result is reported as "
                "not validated and every other image trains.")
    return (f"Validates on this folder's validation set, never trained on: {named} "
            f"({len(held)} of {len(keys)}); the other images train.")

class FinetuneDialog(QDialog):
    """Asks for the settings; :meth:`config` turns them into a ``TrainConfig``."""

    def __init__(self, model: Any | None, workspace: Any | None, models_folder: Path,
                 device: str = "auto", parent: QWidget | None = None,
                 plan: TaskPlan | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on Corrected Images")
        self.model = model
        self.plan = plan
        self.models_folder = Path(models_folder)
        self.device = device
        self.epochs_check = QCheckBox("Stop after")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setRange(1, 10_000)
        self.epochs_spin.setSuffix(" epochs")
        # choosing a count turns the epoch limit on (the user means it)
        self.epochs_spin.valueChanged.connect(lambda _v: self.epochs_check.setChecked(True))
        self.minutes_check = QCheckBox("Stop after")
        self.minutes_spin = QDoubleSpinBox()
        self.minutes_spin.setRange(0.5, 24 * 60)
        self.minutes_spin.setSuffix(" min")
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(6)
        self.lr_spin.setRange(1e-6, 1.0)
        self.lr_spin.setSingleStep(1e-4)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(32, 2048)
        self.size_spin.setSingleStep(32)
        self.size_spin.setSuffix(" px")
        self.val_spin = QDoubleSpinBox()
        self.val_spin.setRange(0.0, 0.9)
        self.val_spin.setSingleStep(0.05)
        self.scale_combo = QComboBox()
        for value, text in SCALE_CHOICES:
            self.scale_combo.addItem(text, value)
        self.scale_combo.setToolTip(
            "Whole image: crops are resized to the image size above and predictions are made "
            "on the resized image. Native pixels: crops keep the images' own pixels and "
            "predictions go through tiles, so structures a few pixels wide survive.")
        self.from_current_check = QCheckBox("Start from the current model")
        self.from_current_check.setToolTip(
            "Unchecked: a new model from the ImageNet-pretrained encoder, with this folder's "
            "classes")
        self.from_current_check.toggled.connect(self._on_from_current_changed)
        self.labelled_keys = [e.key for e in workspace.labelled()] if workspace is not None \
            else []
        labelled = len(self.labelled_keys)
        self.labelled = labelled
        self.size_label = QLabel("Image size:")
        self.validation_label = QLabel("")
        self.validation_label.setWordWrap(True)
        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        self.val_spin.valueChanged.connect(self._on_val_fraction_changed)
        self.data_label = QLabel(f"{labelled} corrected or verified image(s) to learn from")
        frozen = plan is not None and plan.holdout is not None
        self.rule_label = QLabel(recipe_note(labelled, frozen=frozen))
        self.rule_label.setWordWrap(True)
        self.val_spin.valueChanged.connect(
            lambda v: self.rule_label.setText(recipe_note(self.labelled, v, frozen)))
        self.model_label = QLabel(model.label if model is not None else "no model loaded")
        self.data_scheme = workspace.scheme if workspace is not None else None
        self.classes_label = QLabel(replaced_classes(model, self.data_scheme) or "")
        if plan is not None:  # the task decides what it starts from and where it goes
            self.model_label.setText(f"<b>{plan.name}</b>: {plan.origin}")
            self.model_label.setWordWrap(True)
            self.classes_label.setText("")
        self.classes_label.setVisible(bool(self.classes_label.text()))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            labelled > 0 and (model is not None or plan is not None))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        minutes = QHBoxLayout()
        minutes.addWidget(self.minutes_check)
        minutes.addWidget(self.minutes_spin, 1)
        epochs = QHBoxLayout()
        epochs.addWidget(self.epochs_check)
        epochs.addWidget(self.epochs_spin, 1)
        form = QFormLayout()
        form.addRow("Model:", self.model_label)
        form.addRow(self.from_current_check)
        form.addRow("Time limit:", minutes)
        form.addRow("Epochs:", epochs)
        form.addRow("Learning rate:", self.lr_spin)
        form.addRow(self.size_label, self.size_spin)
        form.addRow("Scale:", self.scale_combo)
        form.addRow("Validation fraction:", self.val_spin)
        form.addRow(self.validation_label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.data_label)
        layout.addWidget(self.classes_label)
        layout.addLayout(form)
        layout.addWidget(self.rule_label)
        layout.addWidget(self.buttons)
        self.defaults = EngineDefaults.read()
        size = model.meta.train_size if model is not None else self.defaults.size
        scale = model.meta.scale if model is not None else "fit"
        if plan is not None:  # what it starts from decides the learning rate and the size
            self.from_current_check.setVisible(False)
            parent = plan.init is not None
            same = parent and model is not None and model.path == plan.init
            start = model_metadata(plan.init) if parent and not same else None
            if start is not None:  # a model file to start from: its own size and scale
                size, scale, same = start.get("train_size") or size, start.get("scale"), True
            elif not same:  # a new model: the task's scale
                scale = None if parent else plan.scale
            self.show_settings(FinetuneSettings(size=size if same else None,
                                                lr=self.defaults.lr(parent), from_current=False,
                                                scale=scale))
            return
        self.show_settings(FinetuneSettings(size=size, from_current=model is not None
                                            and model.path is not None, scale=scale))

    def show_settings(self, s: FinetuneSettings) -> None:
        d = self.defaults
        self.epochs_spin.blockSignals(True)  # a count shown is not a count chosen
        self.epochs_spin.setValue(s.epochs or FINE_TUNE_EPOCHS)
        self.epochs_spin.blockSignals(False)
        self.epochs_check.setChecked(s.epochs is not None)
        self.minutes_check.setChecked(s.max_minutes is not None or s.epochs is None)
        self.minutes_spin.setValue(s.max_minutes or d.minutes(self.labelled))
        self.lr_spin.setValue(s.lr if s.lr is not None else d.lr(s.from_current))
        self.size_spin.setValue(s.size if s.size is not None else d.size)
        self.val_spin.setValue(s.val_fraction if s.val_fraction is not None
                               else d.val_fraction(self.labelled))
        self.scale_combo.setCurrentIndex(max(0, self.scale_combo.findData(s.scale or "fit")))
        self.from_current_check.setChecked(s.from_current)
        self.from_current_check.setEnabled(self.model is not None and self.model.path is not None)
        self._on_scale_changed(self.scale_combo.currentIndex())
        self._on_val_fraction_changed(self.val_spin.value())

    def settings(self) -> FinetuneSettings:
        return FinetuneSettings(
            epochs=self.epochs_spin.value() if self.epochs_check.isChecked() else None,
            max_minutes=self.minutes_spin.value() if self.minutes_check.isChecked() else None,
            lr=self.lr_spin.value(), size=self.size_spin.value(),
            val_fraction=self.val_spin.value(), from_current=self.from_current_check.isChecked(),
            scale=self.scale_combo.currentData())

    def config(self, **overrides: Any) -> Any:
        """The TrainConfig to run (``ValueError`` with the reason if it cannot be)."""
        if self.plan is not None:
            return task_train_config(self.settings(), self.plan, self.device, **overrides)
        return train_config(self.settings(), self.model, output_path(self.models_folder,
                                                                      self.model),
                            self.device, self.data_scheme, **overrides)

    def _on_scale_changed(self, _index: int) -> None:
        """Whole images are resized to the size; native-scale training cuts crops of it."""
        native = self.scale_combo.currentData() == "native"
        self.size_label.setText("Crop size:" if native else "Image size:")
        self.size_spin.setToolTip(
            "Training crops of this many pixels, cut from the images at their own scale"
            if native else "Images are resized to this size for training and prediction")

    def _on_val_fraction_changed(self, fraction: float) -> None:
        holdout = self.plan.holdout if self.plan is not None else None
        self.val_spin.setEnabled(holdout is None)  # a task's runs all validate on one set
        self.validation_label.setText(validation_text(self.labelled_keys, fraction)
                                      if holdout is None
                                      else holdout_text(self.labelled_keys, holdout))

    def _on_from_current_changed(self, on: bool) -> None:
        """Fine-tuning wants a small learning rate, a new decoder a larger one."""
        if self.plan is not None:
            return
        d = self.defaults
        if self.lr_spin.value() in (d.fine_tune_lr, d.from_scratch_lr):
            self.lr_spin.setValue(d.lr(on))
