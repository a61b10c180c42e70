"""An accidental stroke saved on quit can be undone after a restart; the kept history is
bounded and dropped when the mask changed on disk meanwhile (issue 18, item 6)."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import drag
from unet_desktop.core.editing.delta import Delta
from unet_desktop.core.editing.history import EditHistory
from unet_desktop.core.editing.history_archive import HistoryArchive

CTRL = Qt.KeyboardModifier.ControlModifier


def stroke_and_quit(qtbot, workspace_dir):
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    win.tools.set_size(5)
    qtbot.keyClick(win, Qt.Key.Key_3)
    drag(qtbot, win.canvas, [(5.5, 40.5), (50.5, 40.5)])
    edited = win.session.document.mask.copy()
    assert win.close()  # saves the stroke on quit
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), edited)
    return edited


def test_a_stroke_saved_on_quit_is_undone_after_a_restart(qtbot, workspace_dir):
    edited = stroke_and_quit(qtbot, workspace_dir)
    win = open_window(qtbot)  # a new session, as after a restart
    assert win.open_folder(workspace_dir) and win.session.current_key == KEYS[0]
    assert win.actions.undo.isEnabled() and win.actions.undo.text() == "Undo Brush stroke"
    assert not win.isWindowModified()
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    np.testing.assert_array_equal(win.session.document.mask, sample_trimap(0))
    assert win.isWindowModified()  # the undo is an edit to save
    qtbot.keyClick(win, Qt.Key.Key_Y, CTRL)
    np.testing.assert_array_equal(win.session.document.mask, edited)
    win.close()


def test_a_mask_changed_meanwhile_drops_the_kept_history(qtbot, workspace_dir):
    stroke_and_quit(qtbot, workspace_dir)
    other = sample_trimap(3)  # another program rewrote the mask
    Image.fromarray(other).save(workspace_dir / "annotations" / "trimaps" / "cat_0.png")
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    np.testing.assert_array_equal(win.session.document.mask, other)
    assert not win.actions.undo.isEnabled()
    win.close()


def test_the_kept_history_is_bounded(tmp_path):
    mask = np.zeros((20, 30), np.uint8)
    history = EditHistory()
    for i in range(30):
        old = mask[0:1, i:i + 1].copy()
        mask[0, i] = 1
        history.push(Delta((0, i, 1, i + 1), old, mask[0:1, i:i + 1].copy(), f"step {i}"))
    archive = HistoryArchive(tmp_path / "history", max_steps=10)
    assert archive.store(tmp_path / "folder", "a.png", history, mask)
    restored = EditHistory()
    assert archive.restore(tmp_path / "folder", "a.png", mask, restored)
    assert len(restored) == 10 and restored.undo_label == "Undo step 29"
    for _ in range(10):
        restored.undo(mask)
    assert mask[0, :20].all() and not mask[0, 20:].any()  # the 10 newest steps went back
    small = HistoryArchive(tmp_path / "small", max_total_bytes=1)
    for key in ("a.png", "b.png", "c.png"):
        small.store(tmp_path / "folder", key, history, mask)
    assert len(list((tmp_path / "small").glob("*/*.npz"))) == 1  # the newest file stays
