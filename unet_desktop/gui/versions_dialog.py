"""Model > Versions...: the open folder's task models, newest first; use one (switch, roll back).

Each row is a :class:`~unet_desktop.core.task.ModelVersion`: name, date, parent, the number of
labelled images it learnt from and its validation score, or "not validated" when it has none
measured on images it did not train on (a fine-tune that held nothing out, a loop round judged
on its training loss). The dialog mirrors the task it is
given (:meth:`show_task`); "Use This Version" asks the owner to load the file.
"""

from __future__ import annotations

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

from unet_desktop.core.task import ModelVersion, Task

COLUMNS = ("Model", "Trained", "Parent", "Labelled images", "Validation mIoU", "In use", "Note")


def _parent_name(task: Task, version: ModelVersion) -> str:
    if version.parent is None:
        return "ImageNet encoder"
    parent = next((v for v in task.versions if v.version == version.parent), None)
    return parent.name if parent is not None else f"model {version.parent}"


def _score(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "not validated"


class VersionsDialog(QDialog):
    """Lists the task's model versions; ``use_requested(file)`` when the user picks one."""

    use_requested = Signal(str)  # the version's stored file reference

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
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.cellDoubleClicked.connect(lambda row, _c: self.use_row(row))
        self.title = QLabel("")
        self.use_button = QPushButton("Use This Version")
        self.use_button.clicked.connect(lambda: self.use_row(self.table.currentRow()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self._files: list[str] = []
        self.show_task(task)
        self.resize(760, 300)

    def show_task(self, task: Task) -> None:
        versions = list(reversed(task.versions))  # newest first
        self._files = [v.file for v in versions]
        self.title.setText(f"Task <b>{task.name}</b>: {len(versions)} model version(s); "
                           "double-click one (or select it and Use) to predict with it.")
        self.table.setRowCount(len(versions))
        for row, v in enumerate(versions):
            cells = (v.name, v.created.replace("T", " ")[:16], _parent_name(task, v),
                     str(v.corrected_images), _score(v.metrics.get("miou")),
                     "●" if v.file == task.model else "", v.note)
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self._on_selection_changed()

    def use_row(self, row: int) -> None:
        if 0 <= row < len(self._files):
            self.use_requested.emit(self._files[row])

    def _on_selection_changed(self) -> None:
        self.use_button.setEnabled(0 <= self.table.currentRow() < len(self._files))
