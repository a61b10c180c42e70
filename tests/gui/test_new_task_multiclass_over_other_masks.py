"""New Task > Multi-class on a folder of trimap (or binary) masks was a dead end: the classes
started as background 0 / class 1, the dialog asked to keep the masks' values [2, 3], Add never
gives a held value and the value column cannot be edited, so Create Task stayed disabled. A
switch to multi-class now starts from the masks' own classes."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.gui.task.task_dialog import TaskDialog


@pytest.mark.parametrize("held", [trimap_scheme(), binary_scheme()], ids=["trimap", "binary"])
def test_multi_class_over_another_kinds_masks_can_be_created(qtbot, held):
    dialog = TaskDialog(held, name="pets", held=held)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("multiclass"))
    assert ok.isEnabled(), dialog.problem_label.text()
    scheme = dialog.classes.scheme()
    assert scheme.kind == "multiclass"
    assert {c.value: c.name for c in scheme.classes} == {c.value: c.name for c in held.classes}
    assert scheme.ignore_value not in set(scheme.stored_values)
    dialog.classes.add_button.click()  # a new class takes a value no mask holds
    assert ok.isEnabled()
