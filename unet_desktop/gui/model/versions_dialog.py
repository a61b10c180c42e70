"""Model > Versions...: the open folder's task models, newest first; use one (switch, roll back).

Each row is a :class:`~unet_desktop.core.folder.task.ModelVersion`: name, date, parent, the number of
labelled images it learnt from and its validation score, or "not validated" when it has none
measured on images it did not train on (a fine-tune that held nothing out, a loop round judged
on its training loss). The dialog mirrors the task it is given (:meth:`show_task`); "Use This
Version" asks the owner to load the file; "Delete" asks the folder's model owner to delete a
version (never the one in use).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.folder.task import ModelVersion, Task
from unet_desktop.core.labels import STROKES_BELOW

COLUMNS = ("Model", "Trained", "Parent", "Labelled images", "Validation", "In use", "Note")
NOTE_COLUMN = COLUMNS.index("Note")
NOTE_MIN_WIDTH = 240  # px; wider when the dialog is (the last column stretches)


def _parent_name(task: Task, version: ModelVersion) -> str:
    if version.parent is None:
        return "ImageNet encoder"
    parent = next((v for v in task.versions if v.version == version.parent), None)
    if parent is not None:
        return parent.name
    return version.parent_name or f"model {version.parent}"  # outside the task: a starter


def trained_text(created: str) -> str:
    """When a version was trained, in the local time zone (files store UTC with its offset)."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:  # not a time: shown as stored
        return created.replace("T", " ")[:16]
    if moment.tzinfo is None:  # no zone given: shown as stored, not guessed
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def images_text(version: ModelVersion) -> str:
    """How many labelled images, and how many of them validated the version."""
    if version.held_back:  # the folder's validation images, too few: neither set
        trained = version.corrected_images - version.held_back
        return (f"{version.corrected_images} ({trained} trained, {version.held_back} held "
                "back: too few to validate)")
    held = version.validation_images
    if held is None:  # recorded before the count was
        return str(version.corrected_images)
    validates = "none validates" if held == 0 else f"{held} validate{'s' if held == 1 else ''}"
    return f"{version.corrected_images} ({validates})"


def validation_text(version: ModelVersion) -> str:
    """The version's validation score and what it is, or that it has none: the score a loop
    round was judged by (``val_score``: Dice or mIoU), else the mIoU of its training run."""
    if version.validated is False:  # judged below the folder's minimum of validation images
        return "not validated"
    metrics = version.metrics
    judged = metrics.get("val_score")
    keys = (("dice", "Dice"), ("miou", "mIoU")) if judged is not None \
        and judged == metrics.get("dice") else (("miou", "mIoU"), ("dice", "Dice"))
    for key, name in keys:
        value = metrics.get(key)
        if isinstance(value, (int, float)):
            on_training = version.validation_images == 0
            labelled = metrics.get("val_labelled", 1.0)
            strokes = f" on strokes ({labelled:.1%} painted)" if labelled < STROKES_BELOW else ""
            return (f"{name} {value:.3f}" + strokes
                    + (" on training images" if on_training else ""))
    return "not validated"


class VersionsDialog(QDialog):
    """Lists the task's model versions; ``use_requested(file)`` when the user picks one."""

    use_requested = Signal(str)  # the version's stored file reference
    delete_requested = Signal(str)  # the version's stored file reference

    def __init__(self, task: Task, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model Versions")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setWordWrap(True)  # a long note on more lines, never cut
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.cellDoubleClicked.connect(lambda row, _c: self.use_row(row))
        self.title = QLabel("")
        self.use_button = QPushButton("Use This Version")
        self.use_button.clicked.connect(lambda: self.use_row(self.table.currentRow()))
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Delete this version's model file (not the one in use)")
        self.delete_button.clicked.connect(lambda: self.delete_row(self.table.currentRow()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self._files: list[str] = []
        self._in_use: str | None = None
        self.show_task(task)
        self.resize(1000, 360)

    def show_task(self, task: Task) -> None:
        versions = list(reversed(task.versions))  # newest first
        self._files = [v.file for v in versions]
        self._in_use = task.model
        self.title.setText(f"Task <b>{task.name}</b>: {len(versions)} model version(s); "
                           f"double-click one (or select it and press "
                           f"{self.use_button.text()}) to predict with it.")
        self.table.setRowCount(len(versions))
        for row, v in enumerate(versions):
            cells = (v.name, trained_text(v.created), _parent_name(task, v),
                     images_text(v), validation_text(v),
                     "●" if v.file == task.model else "", v.note)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if col == NOTE_COLUMN and text:
                    item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self._fit_rows()
        self._on_selection_changed()

    def _fit_rows(self) -> None:
        """The note column takes the room left (it stretches); each row is as tall as its
        wrapped note."""
        self.table.setColumnWidth(NOTE_COLUMN, NOTE_MIN_WIDTH)  # not its one-line width
        self.table.resizeRowsToContents()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.table.resizeRowsToContents()  # the note's lines follow the column's width

    def use_row(self, row: int) -> None:
        if 0 <= row < len(self._files):
            self.use_requested.emit(self._files[row])

    def delete_row(self, row: int) -> None:
        if 0 <= row < len(self._files) and self._files[row] != self._in_use:
            self.delete_requested.emit(self._files[row])

    def _on_selection_changed(self) -> None:
        row = self.table.currentRow()
        self.use_button.setEnabled(0 <= row < len(self._files))
        self.delete_button.setEnabled(0 <= row < len(self._files)
                                      and self._files[row] != self._in_use)
