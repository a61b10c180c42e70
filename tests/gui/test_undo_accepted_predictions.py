"""Undo and redo across accepted predictions reach the file with the right state: an undo back
to a prediction shown by itself after a stroke was saved, a new prediction arriving over a
saved one, and an undo back to a saved prediction after leaving the image or a restart."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import drag
from unet_desktop.core.folder.workspace import ImageState

CTRL = Qt.KeyboardModifier.ControlModifier
DOG = KEYS[3]  # no mask file


def paint_stroke(qtbot, win) -> None:
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    qtbot.keyClick(win, Qt.Key.Key_3)
    drag(qtbot, win.canvas, [(2.5, 2.5), (40.5, 2.5)])


def test_undo_back_to_an_automatic_prediction_after_a_saved_stroke_is_saved(qtbot, window,
                                                                               workspace_dir):
    s = window.session
    window.file_dock.select_key(DOG)
    prediction = sample_trimap(2)
    s.accept_prediction(prediction, "v1", 0.1, automatic=True)  # auto-accept
    paint_stroke(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    assert s.workspace[DOG].state is ImageState.CORRECTED
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(s.document.mask, prediction)
    assert window.isWindowModified() and s.unsaved_keys() == [DOG]  # the file has the stroke
    window.file_dock.select_key(KEYS[0])
    np.testing.assert_array_equal(saved_mask(workspace_dir, DOG), prediction)
    assert s.workspace[DOG].state is ImageState.PREDICTED
    assert s.workspace[DOG].model_version == "v1"


def test_a_new_prediction_over_a_saved_one_is_undone_back_to_it(qtbot, window, workspace_dir):
    s = window.session
    window.file_dock.select_key(DOG)
    first, second = sample_trimap(2), sample_trimap(5)
    s.accept_prediction(first, "v1", 0.1)  # Enter
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    s.accept_prediction(second, "v2", 0.2, automatic=True)  # another model's, by itself
    assert window.actions.undo.text() == "Undo Accept prediction"
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(s.document.mask, first)  # the saved one, not an empty mask
    assert not window.isWindowModified()
    window.file_dock.select_key(KEYS[0])
    np.testing.assert_array_equal(saved_mask(workspace_dir, DOG), first)
    assert s.workspace[DOG].state is ImageState.PREDICTED
    assert s.workspace[DOG].model_version == "v1"


def accept_save_then_stroke(qtbot, win) -> np.ndarray:
    s = win.session
    win.file_dock.select_key(DOG)
    prediction = sample_trimap(2)
    s.accept_prediction(prediction, "v1", 0.1)
    assert s.save()
    paint_stroke(qtbot, win)
    assert s.save() and s.workspace[DOG].state is ImageState.CORRECTED
    return prediction


def undo_and_save(qtbot, win, prediction: np.ndarray) -> None:
    assert "Brush stroke" in win.actions.undo.text()
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(win.session.document.mask, prediction)
    assert win.session.save()
    assert win.session.workspace[DOG].state is ImageState.PREDICTED  # the model's, not a label
    assert win.session.workspace[DOG].model_version == "v1"


def test_undo_back_to_a_saved_prediction_after_leaving_saves_it_as_predicted(qtbot, window):
    prediction = accept_save_then_stroke(qtbot, window)
    window.file_dock.select_key(KEYS[0])
    window.file_dock.select_key(DOG)
    undo_and_save(qtbot, window, prediction)


def test_undo_back_to_a_saved_prediction_after_a_restart_saves_it_as_predicted(qtbot,
                                                                               workspace_dir):
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    prediction = accept_save_then_stroke(qtbot, win)
    assert win.close()
    win = open_window(qtbot)  # a new session: the history comes from the archive
    assert win.open_folder(workspace_dir)
    win.file_dock.select_key(DOG)
    undo_and_save(qtbot, win, prediction)
    win.close()
