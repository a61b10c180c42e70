"""Mask > Classes (a reorder, a rename, a new colour) reads the folder anew: the window then
showed the folder's first image instead of the one being worked on."""

from __future__ import annotations

import numpy as np
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.test_task_flow import task_dialog


def test_the_image_on_screen_stays_after_each_classes_edit(qtbot, tmp_path):
    root = tmp_path / "cells"
    root.mkdir()
    for i in range(5):
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (40, 50), np.uint8)).save(
            root / f"cell_{i}.png")
    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(root)
    dialog = task_dialog(qtbot, win)
    dialog.name_edit.setText("tissue")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("multiclass"))
    dialog.classes.add_class()
    dialog.accept()
    win.file_dock.select_key("cell_3.png")
    assert win.session.current_key == "cell_3.png"
    for edit in ("move", "rename", "colour"):
        classes = win.task_commands.edit_classes()
        if edit == "move":
            classes.editor.move(1, -1)
        elif edit == "rename":
            classes.editor.rename(2, "vessel")
        else:
            classes.editor.set_colour(2, (250, 20, 20))
        classes.accept()
        assert win.session.current_key == "cell_3.png", edit
        assert win.file_dock.current_key() == "cell_3.png", edit
    assert win.session.workspace.scheme.names[2] == "vessel"
    win.close()
