"""Training > Fine-tune on Corrected Images...: the few settings that matter, as a TrainConfig.

Everything else keeps ``TrainConfig``'s defaults, and the few-image recipe
(``ml.training.few_image_recipe``) decides the batch and schedule. By default a run lasts its time limit
(3 minutes with at most 10 corrected images, else 10), with no epoch count, and a folder of few
images holds none out; early stopping only with enough validation images (the dialog says so). The new model goes to the user's model folder
under a new name: training never overwrites the model in use. In a folder with a task, a
:class:`TaskPlan` says instead where the model goes, its name (``cells-v3``) and what it starts
from: the task's model, the model file the task started from (classes mapped by name), or a new
model from the ImageNet-pretrained encoder (``init=None, arch=None``). Either way "Start from the
current model" unchecked makes a new model from that encoder (in a task: still its next version).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.gui.decimal_box import DecimalSpinBox
from unet_desktop.gui.training.finetune_plan import (
    EngineDefaults,
    FinetuneSettings,
    ReadCheck,
    TaskPlan,
    holdout_text,
    output_path,
    recipe_note,
    replaced_classes,
    task_train_config,
    train_config,
    unreadable_text,
    validation_text,
)

CHECK_AT_ONCE_S = 0.3  # images checked as the dialog opens; the rest on a thread
READ_CHECK_POLL_MS = 100
NEW_MODEL = "a new model from the ImageNet-pretrained encoder"
FINE_TUNE_EPOCHS = 20  # shown when the user turns an epoch count on
SCALE_CHOICES = (  # core.io.model_header.SCALES, as the dialog words them
    ("fit", "Whole image, resized (objects: pets, cars, organs)"),
    ("native", "Native pixels, in tiles (thin structures: membranes, vessels, cracks)"),
)


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
        self.minutes_spin = DecimalSpinBox()
        self.minutes_spin.setRange(0.5, 24 * 60)
        self.minutes_spin.setSuffix(" min")
        self.lr_spin = DecimalSpinBox()  # takes 1e-4, 0.0001 and 0,0001 alike
        self.lr_spin.setRange(1e-6, 1.0)
        self.lr_spin.setSingleStep(1e-4)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(32, 2048)
        self.size_spin.setSingleStep(32)
        self.size_spin.setSuffix(" px")
        self.val_spin = DecimalSpinBox()
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
        entries = list(workspace.labelled()) if workspace is not None else []
        self._keys = [e.key for e in entries]
        # those the run cannot read are left out: never counted nor named as used. Decoded on a
        # thread past the first CHECK_AT_ONCE_S (the window stays responsive); Start waits
        self.read_check = ReadCheck(entries, CHECK_AT_ONCE_S)
        self.finished.connect(self._stop_read_check)
        self._take_read_check()
        self.size_label = QLabel("Image size:")
        self.validation_label = QLabel("")
        self.validation_label.setWordWrap(True)
        self.scale_combo.currentIndexChanged.connect(self._on_scale_changed)
        self.val_spin.valueChanged.connect(self._on_val_fraction_changed)
        self.data_label = QLabel(self._data_text())
        self.data_label.setWordWrap(True)
        self.where_label = QLabel(
            f"This folder cannot be written: the new model is saved in {self.models_folder}, "
            "not as a version of the folder's task.")
        self.where_label.setWordWrap(True)
        self.where_label.setVisible(plan is None and workspace is not None
                                    and workspace.read_only)
        self._frozen = plan is not None and plan.holdout is not None
        self.rule_label = QLabel(recipe_note(self.labelled, frozen=self._frozen))
        self.rule_label.setWordWrap(True)
        self.val_spin.valueChanged.connect(self._show_recipe)
        self.model_label = QLabel(model.label if model is not None else "no model loaded")
        self.data_scheme = workspace.scheme if workspace is not None else None
        self.classes_label = QLabel(replaced_classes(model, self.data_scheme) or "")
        if plan is not None:  # the task decides where it goes and what it starts from
            self.model_label.setWordWrap(True)
            self.classes_label.setText("")
            self._offer_a_new_model(plan, model)
        self.classes_label.setVisible(bool(self.classes_label.text()))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self._startable = model is not None or plan is not None
        self._update_start()
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
        layout.addWidget(self.where_label)
        layout.addWidget(self.classes_label)
        layout.addLayout(form)
        layout.addWidget(self.rule_label)
        layout.addWidget(self.buttons)
        self.defaults = EngineDefaults.read()
        if not self.read_check.done:
            self._read_timer = QTimer(self)
            self._read_timer.timeout.connect(self._poll_read_check)
            self._read_timer.start(READ_CHECK_POLL_MS)
        size = model.meta.train_size if model is not None else self.defaults.size
        scale = model.meta.scale if model is not None else "fit"
        if plan is not None:  # what it starts from decides the learning rate and the size
            parent = plan.init is not None
            same = parent and model is not None and model.path == plan.init
            start = model_metadata(plan.init) if parent and not same else None
            if start is not None:  # a model file to start from: its own size and scale
                size, scale, same = start.get("train_size") or size, start.get("scale"), True
            elif not same:  # a new model: the task's scale
                scale = None if parent else plan.scale
            self.show_settings(FinetuneSettings(size=size if same else None,
                                                lr=self.defaults.lr(parent),
                                                from_current=parent, scale=scale))
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
        self.from_current_check.setEnabled(self._start_file() is not None)
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
        self.validation_label.setText(
            validation_text(self.labelled_keys, fraction) if holdout is None
            else holdout_text(self.labelled_keys, holdout, self.plan.every_k))

    def _offer_a_new_model(self, plan: TaskPlan, model: Any | None) -> None:
        """A task's run may start from the ImageNet-pretrained encoder instead of what the
        task would start from (unchecked); nothing to choose when that is the encoder already."""
        check = self.from_current_check
        if plan.init is not None and (model is None or model.path != plan.init):
            check.setText(f"Start from {plan.init.name}")  # the task's start model, not loaded
        check.setToolTip(
            "Unchecked: a new model from the ImageNet-pretrained encoder, with the task's "
            f"classes. It is still the task's next version, {plan.name}, put into use when it "
            "finishes; the model in use now stays a version (Model > Versions...)")
        check.setVisible(plan.init is not None)
        self._show_origin(plan.init is not None)

    def _show_origin(self, from_current: bool) -> None:
        self.model_label.setText(f"<b>{self.plan.name}</b>: {self.origin(from_current)}")

    def origin(self, from_current: bool | None = None) -> str:
        """What the task's run starts from, as chosen (default: as the check box says)."""
        if from_current is None:
            from_current = self.from_current_check.isChecked()
        return self.plan.origin if from_current and self.plan.init is not None else NEW_MODEL

    def what_it_does(self) -> str:
        """:meth:`origin` as a verb phrase ("fine-tunes cells-v2", "trains a new model ...")."""
        origin = self.origin()
        return f"trains {origin}" if origin == NEW_MODEL else origin

    def _start_file(self) -> Path | None:
        """The model file "Start from" names (None: only a new model can be made)."""
        if self.plan is not None:
            return self.plan.init
        return self.model.path if self.model is not None else None

    def _stop_read_check(self, _result: int) -> None:
        self.read_check.cancel()

    def _take_read_check(self) -> None:
        """The images the run can read, once the check is done (all of them until then)."""
        self.unreadable = dict(self.read_check.problems) if self.read_check.done else {}
        self.labelled_keys = [k for k in self._keys if k not in self.unreadable]
        self.labelled = len(self.labelled_keys)

    def _data_text(self) -> str:
        check, count = self.read_check, len(self._keys)
        if not check.done:
            return (f"{count} corrected or verified image(s) to learn from (checking that each "
                    f"can be read: {check.checked} of {count}; Start waits for it)")
        return (f"{count} corrected or verified image(s) to learn "
                f"from{unreadable_text(self.unreadable)}")

    def _poll_read_check(self) -> None:
        if self.read_check.done:
            self._read_timer.stop()
            self._take_read_check()
            self._show_recipe(self.val_spin.value())
            self._on_val_fraction_changed(self.val_spin.value())
            self._update_start()
        self.data_label.setText(self._data_text())

    def _show_recipe(self, val_fraction: float | None = None) -> None:
        self.rule_label.setText(recipe_note(self.labelled, val_fraction, self._frozen))

    def _update_start(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(
            self.labelled > 0 and self._startable and self.read_check.done)

    def _on_from_current_changed(self, on: bool) -> None:
        """Fine-tuning wants a small learning rate, a new decoder a larger one."""
        if self.plan is not None:
            self._show_origin(on)
        d = self.defaults
        if self.lr_spin.value() in (d.fine_tune_lr, d.from_scratch_lr):
            self.lr_spin.setValue(d.lr(on))
