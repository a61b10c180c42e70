"""Mask > Fill Holes with "unlabeled" (a sparse task) or the background class (a dense task)
selected: the "holes" would be the strokes or the objects; it changes nothing and says why."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.helpers import drag
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import binary_scheme


def _status_messages(win) -> list[str]:
    said: list[str] = []
    win.statusBar().messageChanged.connect(said.append)
    return said


def test_fill_holes_with_unlabeled_keeps_the_strokes(qtbot, tmp_path):
    root = tmp_path / "cells"
    root.mkdir()
    Image.fromarray(np.full((40, 60), 90, np.uint8)).save(root / "a.png")
    save_task(root, Task("cells", binary_scheme(("outside", "cell"), ignore_value=128)))
    win = open_window(qtbot)
    said = _status_messages(win)
    assert win.open_folder(root)
    win.tools.set_size(3)
    qtbot.keyClick(win, Qt.Key.Key_2)
    drag(qtbot, win.canvas, [(10.5, 15.5), (45.5, 15.5)])
    qtbot.keyClick(win, Qt.Key.Key_1)
    drag(qtbot, win.canvas, [(10.5, 30.5), (45.5, 30.5)])
    before = win.session.document.mask.copy()
    assert (before != 128).sum() > 100
    win.tools.set_value(128)  # "unlabeled", as the eyedropper picks it from an unpainted pixel
    win.actions.fill_holes.trigger()
    np.testing.assert_array_equal(win.session.document.mask, before)
    assert any("'unlabeled' is no class" in m for m in said)
    win.close()


def test_fill_holes_with_the_background_keeps_the_objects(qtbot, window):
    said = _status_messages(window)
    before = window.session.document.mask.copy()
    assert (before == 1).sum() > 100  # an object inside the background
    window.tools.set_value(2)  # the trimap's background
    window.tool_dock.holes_button.click()
    np.testing.assert_array_equal(window.session.document.mask, before)
    assert any("background class (background)" in m for m in said)
