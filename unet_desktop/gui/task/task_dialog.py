"""File > New Task...: what is labelled in this folder, its classes, and what to start from.

Asked by itself when a folder with neither masks nor a task is opened. A folder that has masks
proposes the scheme guessed from them; one whose image files mostly have 2 or more than 3
channels proposes channel 1. Channels that fit none of the folder's images are refused, naming
a file and its channel count; those that leave some out say which
(:mod:`~unet_desktop.gui.task.channel_choice`). The scale and the class colours that suit the
folder's images arrive once a few of them are read (:meth:`TaskDialog.apply_proposal`; a line
says how many it reads meanwhile), except where the user chose others. The dialog only builds a
:class:`~unet_desktop.core.folder.task.Task`; the :class:`~unet_desktop.gui.task.task_controller.TaskController`
saves and applies it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.folder.task import Task, classes_by_name, describe_classes
from unet_desktop.core.folder.task_proposal import Proposal
from unet_desktop.core.io.input_rule import DEFAULT_NEW, InputRule
from unet_desktop.core.io.model_header import model_scheme
from unet_desktop.core.labels import LabelScheme
from unet_desktop.gui.task.channel_choice import (
    FolderChannels,
    fit_note,
    fit_problem,
    model_channels,
    rule_of_channels,
)
from unet_desktop.gui.task.class_editor import ClassEditor, dropped_values_problem
from unet_desktop.gui.training.finetune_dialog import SCALE_CHOICES

INPUT_CHOICES = (("data-range", "Range of the data (a 12-bit image by 4095)"),
                 ("percentile", "Per image: 1st-99th percentile (Cellpose)"))

KINDS = {"binary": "Binary (object / background)", "multiclass": "Multi-class",
         "trimap": "Trimap (foreground / background / border)"}
MODEL_FILTER = "Models (*.safetensors);;All files (*)"


class TaskDialog(QDialog):
    """Asks for a task; :meth:`task` builds it (``ValueError`` with the reason)."""

    def __init__(self, proposed: LabelScheme, name: str = "", note: str = "",
                 user_models: Path | None = None, parent: QWidget | None = None,
                 models_in: str = "folder", scale: str = "fit", input_rule: dict | None = None,
                 held: LabelScheme | None = None, images: FolderChannels | None = None) -> None:
        """``models_in``: where the task keeps its fine-tuned models now ("folder", the
        default, or "user"); ``scale`` and ``input_rule``: the ones proposed for a new model
        (the task's, kept unless changed); ``held``: the scheme whose values the folder's masks
        may hold (None: no masks), which the new classes must keep; ``images``: the channels
        of the folder's image files, which the task's channels must fit (None: not checked)."""
        super().__init__(parent)
        self.held = held
        self.images = images
        self.given_rule = InputRule.from_dict(input_rule or {"kind": DEFAULT_NEW})
        self.setWindowTitle("New Task")
        self.name_edit = QLineEdit(name)
        self.name_edit.setPlaceholderText("e.g. cells (models are named cells-v1, cells-v2...)")
        self.kind_combo = QComboBox()
        for kind, title in KINDS.items():
            self.kind_combo.addItem(title, kind)
        self.classes = ClassEditor(proposed)
        if held is not None:
            self.classes.keep_classes(held)
        self.kind_combo.setCurrentIndex(list(KINDS).index(proposed.kind))
        self.kind_combo.currentIndexChanged.connect(
            lambda _i: self.classes.set_kind(self.kind_combo.currentData()))
        self.imagenet_radio = QRadioButton("A new model from the ImageNet-pretrained encoder")
        self.scale_combo = QComboBox()
        for value, text in SCALE_CHOICES:
            self.scale_combo.addItem(text, value)
        self.scale_combo.setToolTip("How the new model sees the images (a model file keeps "
                                    "its own)")
        self.scale_combo.setCurrentIndex(max(0, self.scale_combo.findData(scale)))
        self._given_colours = self.classes.colours()  # a proposal arriving late keeps...
        self._scale_chosen = False  # ...and the scale the user chose meanwhile
        self.scale_combo.currentIndexChanged.connect(
            lambda _i: setattr(self, "_scale_chosen", True))
        self.looking_label = QLabel("")  # the images a proposal looks at, then what it found
        self.looking_label.setWordWrap(True)
        self.looking_label.hide()
        self.imagenet_radio.toggled.connect(self.scale_combo.setEnabled)
        self.input_combo = QComboBox()  # the new model's input rule (core.io.input_rule)
        for value, text in INPUT_CHOICES:
            self.input_combo.addItem(text, value)
        self.input_combo.setToolTip("How a new model makes its input from 12/16-bit and float "
                                    "images (8-bit images are the same under both but the "
                                    "percentile rule); recorded in each model file")
        self._show_rule(self.given_rule)
        self.channels_edit = QLineEdit(",".join(str(c + 1) for c in
                                                self.given_rule.channels or ()))
        self.channels_edit.setPlaceholderText("gray or RGB as stored; or e.g. 2, or 1,2,3")
        self.channels_edit.setToolTip("Which channels of multi-channel images feed the model "
                                      "(one or three, counted from 1); images without them are "
                                      "listed as skipped")
        self.imagenet_radio.toggled.connect(self.input_combo.setEnabled)
        self.imagenet_radio.toggled.connect(self.channels_edit.setEnabled)
        self.model_radio = QRadioButton("An existing model file (classes mapped by name):")
        self.imagenet_radio.setChecked(True)
        self.start_group = QButtonGroup(self)
        self.start_group.addButton(self.imagenet_radio)
        self.start_group.addButton(self.model_radio)
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("a .safetensors model file")
        self.browse_button = QPushButton("Browse...")
        self.browse_button.clicked.connect(self._on_browse)
        self.mapping_label = QLabel("")
        self.mapping_label.setWordWrap(True)
        self.folder_radio = QRadioButton("With this folder (.unet-desktop/models) — the default")
        self.user_radio = QRadioButton("In my models folder"
                                       + (f" ({user_models})" if user_models else ""))
        (self.user_radio if models_in == "user" else self.folder_radio).setChecked(True)
        self.where_group = QButtonGroup(self)
        self.where_group.addButton(self.folder_radio)
        self.where_group.addButton(self.user_radio)
        self.problem_label = QLabel("")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b00020")
        self.fit_label = QLabel("")  # the images the channels leave out, while some fit
        self.fit_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create Task")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        for signal in (self.name_edit.textChanged, self.model_edit.textChanged,
                       self.model_radio.toggled, self.channels_edit.textChanged):
            signal.connect(self._validate)
        self.classes.changed.connect(self._validate)
        self._layout(note)
        self._validate()
        self.resize(620, 680)

    def _layout(self, note: str) -> None:
        form = QFormLayout()
        form.addRow("Task name:", self.name_edit)
        form.addRow("What is labelled:", self.kind_combo)
        start = QGroupBox("Start from")
        start_layout = QVBoxLayout(start)
        start_layout.addWidget(self.imagenet_radio)
        scale_row = QHBoxLayout()
        scale_row.addSpacing(24)
        scale_row.addWidget(QLabel("Scale:"))
        scale_row.addWidget(self.scale_combo, 1)
        start_layout.addLayout(scale_row)
        input_row = QHBoxLayout()
        input_row.addSpacing(24)
        input_row.addWidget(QLabel("Input:"))
        input_row.addWidget(self.input_combo, 1)
        input_row.addWidget(QLabel("Channels:"))
        input_row.addWidget(self.channels_edit, 1)
        start_layout.addLayout(input_row)
        start_layout.addWidget(self.fit_label)
        start_layout.addWidget(self.model_radio)
        row = QHBoxLayout()
        row.addWidget(self.model_edit, 1)
        row.addWidget(self.browse_button)
        start_layout.addLayout(row)
        start_layout.addWidget(self.mapping_label)
        where = QGroupBox("Keep the fine-tuned models")
        where_layout = QVBoxLayout(where)
        where_layout.addWidget(self.folder_radio)
        where_layout.addWidget(self.user_radio)
        layout = QVBoxLayout(self)
        if note:
            label = QLabel(note)
            label.setWordWrap(True)
            layout.addWidget(label)
        layout.addWidget(self.looking_label)
        layout.addLayout(form)
        layout.addWidget(QLabel("Classes (double-click a name to rename it, a colour to "
                                "change it):"))
        layout.addWidget(self.classes, 1)
        layout.addWidget(start)
        layout.addWidget(where)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

    # --- choices ----------------------------------------------------------------------------------
    def _show_rule(self, rule: InputRule) -> None:
        """The Input box shows ``rule``'s kind (one that new tasks do not offer, as recorded)."""
        if self.input_combo.findData(rule.kind) < 0:
            self.input_combo.addItem(f"As recorded: {InputRule(rule.kind).describe()}", rule.kind)
        self.input_combo.setCurrentIndex(self.input_combo.findData(rule.kind))

    def show_looking(self, read: int, total: int) -> None:
        """A proposal reads ``total`` of the folder's images, ``read`` of them so far."""
        self.looking_label.setText(f"Looking at {total} of the folder's images for the scale "
                                   f"and the colours ({read} of {total} read)...")
        self.looking_label.show()

    def apply_proposal(self, proposal: Proposal) -> None:
        """The scale and the class colours proposed from the folder's images, except where
        the user chose others meanwhile; the line says why."""
        if not self._scale_chosen:
            self.scale_combo.setCurrentIndex(max(0, self.scale_combo.findData(proposal.scale)))
        for row, (now, given, proposed) in enumerate(zip(self.classes.colours(),
                                                         self._given_colours, proposal.colors)):
            if now == given:
                self.classes.set_colour(row, proposed)
        self.looking_label.setText(proposal.why)
        self.looking_label.setVisible(bool(proposal.why))

    def say_not_looked(self, reason: str) -> None:
        """The proposal failed: the scale and colours stay as they are."""
        self.looking_label.setText(f"The folder's images could not be looked at ({reason}): "
                                   "the scale and the colours are the defaults")
        self.looking_label.show()

    def set_start_model(self, path: str | Path | None) -> None:
        """An existing model file to start from (None: the ImageNet-pretrained encoder)."""
        self.model_edit.setText("" if path is None else str(path))
        (self.model_radio if path is not None else self.imagenet_radio).setChecked(True)

    def _on_browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Start from a model", "", MODEL_FILTER)
        if path:
            self.set_start_model(path)

    def start_model(self) -> Path | None:
        text = self.model_edit.text().strip()
        return Path(text) if self.model_radio.isChecked() and text else None

    # --- checking ---------------------------------------------------------------------------------
    def problem(self) -> str | None:
        try:
            self.task()
        except ValueError as exc:
            return str(exc)
        return None

    def _validate(self) -> None:
        self.mapping_label.setText(self._mapping_text())
        problem = self.problem()
        self.problem_label.setText(problem or "")
        self.fit_label.setText("" if problem else self._fit_text())
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def _mapping_text(self) -> str:
        path = self.start_model()
        if path is None:
            return ""
        parent = model_scheme(path)
        if parent is None:
            return f"{path.name} is not a readable model file"
        try:
            carried = classes_by_name(parent, self.classes.scheme())
        except ValueError:
            return ""
        kept = ", ".join(f"{n} ← {p}" for n, p in carried.items()) or "none"
        return (f"{path.name} predicts {describe_classes(parent)}. Carried over by name: "
                f"{kept}; the other classes are learnt from your labels.")

    def _fit_text(self) -> str:
        try:
            rule = InputRule.from_dict(self._input_rule())
        except ValueError:
            return ""
        return fit_note(rule, self.images)

    def task(self) -> Task:
        name = self.name_edit.text().strip()
        if not name:
            raise ValueError("give the task a name")
        scheme = self.classes.scheme()
        problem = dropped_values_problem(self.held, scheme)
        if problem:
            raise ValueError(problem)
        start = self.start_model()
        if self.model_radio.isChecked():
            if start is None:
                raise ValueError("choose the model file to start from")
            if model_scheme(start) is None:
                raise ValueError(f"{start}: not a readable model file")
        rule = self._input_rule()
        problem = fit_problem(InputRule.from_dict(rule), self.images, self.model_radio.isChecked())
        if problem:
            raise ValueError(problem)
        return Task(name, scheme, str(start.resolve()) if start else None,
                    "user" if self.user_radio.isChecked() else "folder",
                    scale=self.scale_combo.currentData(), input_rule=rule)

    def _input_rule(self) -> dict:
        """The new model's input rule from the Input and Channels boxes; from a model file,
        which keeps its own rule, the channels it takes (they decide the images listed). The
        given rule's other settings stay while its kind does. ValueError names what is wrong."""
        if self.model_radio.isChecked():
            start = self.start_model()
            return rule_of_channels(model_channels(start) if start is not None else None)
        channels = _channels_chosen(self.channels_edit.text().strip())
        kind = self.input_combo.currentData()
        if kind == self.given_rule.kind:
            return replace(self.given_rule, channels=channels).to_dict()
        return InputRule(kind, channels=channels).to_dict()


def _channels_chosen(text: str) -> tuple[int, ...] | None:
    """The Channels box's numbers (counted from 1) as 0-based channels; None when empty.
    ValueError says what is wrong in the box's own terms."""
    if not text:
        return None
    try:
        numbers = [int(c) for c in text.split(",")]
    except ValueError:
        raise ValueError(f"channels are numbers from 1, e.g. 2 or 1,2,3 (not {text!r})"
                         ) from None
    if any(n < 1 for n in numbers):
        raise ValueError(f"channels are counted from 1: the first channel is 1 (not {text!r})")
    if len(numbers) > 3:
        raise ValueError(f"choose one to three channels, e.g. 2 or 1,2,3 (not {text!r})")
    return tuple(n - 1 for n in numbers)
