"""File > New Task on a folder whose masks' values fit no scheme by themselves (4-class strokes
0-3 with 255 unlabeled, written elsewhere) said "their values look binary (2 classes)": binary
was only the fallback. The note now says the guess failed and why."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QLabel

from tests.gui.conftest import open_window


def _stroke_folder(root):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        Image.fromarray(np.full((48, 48, 3), 60 + 40 * i, np.uint8)).save(
            root / "images" / f"im{i}.png")
        strokes = np.full((48, 48), 255, np.uint8)
        for value in range(4):
            strokes[4 + 10 * value, 4:40] = value
        Image.fromarray(strokes).save(root / "masks" / f"im{i}.png")


def test_new_task_says_the_masks_fit_no_scheme_not_binary(qtbot, tmp_path):
    root = tmp_path / "strokes"
    _stroke_folder(root)
    win = open_window(qtbot)
    assert win.open_folder(root)
    dialog = win.task_commands.new_task()
    notes = [label.text() for label in dialog.findChildren(QLabel) if "mask file" in label.text()]
    dialog.reject()
    win.close()
    assert notes and not any("look binary" in note for note in notes)
    assert "fit no label scheme by themselves" in notes[0]
    assert "[0, 1, 2, 3, 255]" in notes[0]
