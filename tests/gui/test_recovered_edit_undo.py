"""An edit recovered after a crash is written into the mask file as one undo step: Ctrl+Z gives
back the mask saved before the crash, and leaving the image saves that."""

from __future__ import annotations

import signal

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.test_crash_recovery import start_window_with_an_autosaved_stroke

CTRL = Qt.KeyboardModifier.ControlModifier


def test_a_recovered_edit_can_be_undone(qtbot, workspace_dir, isolated_settings):
    app = start_window_with_an_autosaved_stroke(workspace_dir, isolated_settings)
    app.send_signal(signal.SIGKILL)
    app.communicate(timeout=30)
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir) and win.recovered_keys == [KEYS[0]]
    recovered = saved_mask(workspace_dir, KEYS[0])
    assert not np.array_equal(recovered, sample_trimap(0))
    np.testing.assert_array_equal(win.session.document.mask, recovered)
    assert win.actions.undo.text().endswith("Recovered autosave")
    assert not win.isWindowModified()  # written already
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(win.session.document.mask, sample_trimap(0))
    assert win.isWindowModified()
    win.file_dock.select_key(KEYS[1])
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), sample_trimap(0))
    win.file_dock.select_key(KEYS[0])
    qtbot.keyClick(win, Qt.Key.Key_Y, CTRL)  # and back again
    np.testing.assert_array_equal(win.session.document.mask, recovered)
    win.close()
