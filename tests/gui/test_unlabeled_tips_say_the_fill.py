"""What the window says of unlabeled pixels matches what training does with them. By default
(``TrainConfig.stroke_fill == "auto"``) masks that are mostly strokes have their unlabeled pixels
filled with a pixel classifier's labels before training (``ml.training.stroke_fill``), so the
sparse-labels box, the Tools dock's "unlabeled" entry and Mask > Eraser Paints Unlabeled must not
say that training ignores them (they said so, and that they were never taught as background)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.editing.tool_dock import ToolDock
from unet_desktop.gui.task.class_editor import ClassEditor
from unet_desktop.gui.task.task_actions import TaskActions
from unet_desktop.ml.training.train_config import TrainConfig

SPARSE = binary_scheme(ignore_value=128)


def _says_the_fill(text: str) -> None:
    assert TrainConfig(out=Path("m.safetensors")).stroke_fill == "auto"  # what they describe
    lowered = text.lower()
    assert "fill" in lowered, text
    assert "training ignores" not in lowered and "never taught" not in lowered, text


def test_sparse_labels_box_says_unlabeled_pixels_are_filled(qtbot):
    editor = ClassEditor(SPARSE)
    qtbot.addWidget(editor)
    _says_the_fill(editor.sparse_check.toolTip())
    assert "--stroke-fill off" in editor.sparse_check.toolTip()


def test_unlabeled_entry_of_the_tools_dock_says_the_fill(qtbot):
    dock = ToolDock([])
    qtbot.addWidget(dock)
    dock.set_scheme(SPARSE)
    unlabeled = [dock.class_list.item(i) for i in range(dock.class_list.count())
                 if dock.class_list.item(i).data(Qt.ItemDataRole.UserRole) == 128]
    assert len(unlabeled) == 1
    _says_the_fill(unlabeled[0].toolTip())


def test_eraser_paints_unlabeled_says_the_fill(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    _says_the_fill(TaskActions(parent).eraser_unlabeled.statusTip())
