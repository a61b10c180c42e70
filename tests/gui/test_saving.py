"""Saving: Ctrl+S, unsaved marks, autosave timing, leaving and quitting, verify, errors."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import click, disc
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.gui.editing.file_list_dock import STATE_ROLE

CTRL = Qt.KeyboardModifier.ControlModifier


def list_text(window, key: str) -> str:
    return window.file_dock.row_data(key, Qt.ItemDataRole.DisplayRole)


def test_unsaved_edits_show_in_title_and_list_until_saved(qtbot, window, workspace_dir):
    window.tools.set_size(3)
    click(qtbot, window.canvas, 50.5, 5.5)
    assert window.isWindowModified() and "[*]" in window.windowTitle()
    assert list_text(window, KEYS[0]) == f"{KEYS[0]} *"
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), sample_trimap(0))
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    assert not window.isWindowModified()
    assert list_text(window, KEYS[0]) == KEYS[0]
    expected = sample_trimap(0)
    expected[disc(expected.shape, 50.5, 5.5, 3)] = window.tools.value
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), expected)
    assert Workspace.open(workspace_dir)[KEYS[0]].state is ImageState.CORRECTED


def test_autosave_reaches_the_journal_within_2_s_of_the_last_edit(qtbot, window):
    journal = window.session.journal
    root = window.session.workspace.root
    window.tools.set_size(3)
    click(qtbot, window.canvas, 50.5, 5.5)
    click(qtbot, window.canvas, 52.5, 5.5)
    assert window.session.autosave.pending
    qtbot.waitUntil(lambda: journal.get(root, KEYS[0]) is not None, timeout=2500)
    np.testing.assert_array_equal(
        journal.load(journal.get(root, KEYS[0])), window.session.document.mask
    )
    assert window.isWindowModified()  # autosave protects; saving into the folder is separate
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    assert journal.get(root, KEYS[0]) is None  # a real save retires the autosave


def test_autosave_waits_for_the_stroke_to_end(qtbot, window):
    session = window.session
    session.autosave._timer.setInterval(50)
    canvas = window.canvas
    canvas.tool_pressed.emit(5.5, 5.5)
    canvas.tool_moved.emit(15.5, 5.5)
    qtbot.wait(200)
    assert session.journal.get(session.workspace.root, KEYS[0]) is None
    assert session.document.in_stroke
    canvas.tool_released.emit(15.5, 5.5)
    qtbot.waitUntil(lambda: session.journal.get(session.workspace.root, KEYS[0]) is not None,
                    timeout=1000)
    assert len(session.document.history) == 1


def test_leaving_an_image_and_quitting_save_it(qtbot, window, workspace_dir):
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_3)
    click(qtbot, window.canvas, 0.5, 0.5)
    qtbot.keyClick(window, Qt.Key.Key_D)
    assert saved_mask(workspace_dir, KEYS[0])[0, 0] == 3
    click(qtbot, window.canvas, 1.5, 0.5)
    window.close()
    assert saved_mask(workspace_dir, KEYS[1])[0, 1] == 3
    assert window.session.journal.entries() == []


def test_image_without_a_mask_starts_as_background_and_gets_one(qtbot, window, workspace_dir):
    window.file_dock.select_key(KEYS[3])
    assert window.file_dock.row_data(KEYS[3], STATE_ROLE) == "unlabeled"
    np.testing.assert_array_equal(window.session.document.mask, 2)
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_1)
    click(qtbot, window.canvas, 4.5, 4.5)
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    mask = saved_mask(workspace_dir, KEYS[3])
    assert mask[4, 4] == 1 and (mask == 2).sum() == mask.size - 1
    assert window.file_dock.row_data(KEYS[3], STATE_ROLE) == "corrected"


def test_mark_verified_saves_edits_and_state(qtbot, window, workspace_dir):
    qtbot.keyClick(window, Qt.Key.Key_E, CTRL)  # not edited: only the state changes
    assert Workspace.open(workspace_dir)[KEYS[0]].state is ImageState.VERIFIED
    window.tools.set_size(1)
    click(qtbot, window.canvas, 0.5, 0.5)
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    assert Workspace.open(workspace_dir)[KEYS[0]].state is ImageState.CORRECTED  # edited again
    click(qtbot, window.canvas, 2.5, 0.5)
    qtbot.keyClick(window, Qt.Key.Key_E, CTRL)
    reopened = Workspace.open(workspace_dir)
    assert reopened[KEYS[0]].state is ImageState.VERIFIED
    assert saved_mask(workspace_dir, KEYS[0])[0, 2] == window.tools.value
    assert not window.isWindowModified()


@pytest.mark.reliability("disk", "window: read-only folder, edits kept in memory")
def test_read_only_folder_keeps_edits_in_memory_with_a_clear_message(qtbot, window,
                                                                     workspace_dir):
    mask_dir = workspace_dir / "annotations" / "trimaps"
    window.close()
    for folder in (workspace_dir, mask_dir):
        os.chmod(folder, stat.S_IRUSR | stat.S_IXUSR)
    try:
        win = open_window(qtbot)
        win.open_folder(workspace_dir)
        win.confirm_discard = lambda keys: True  # answer the quit dialog
        win.tools.set_size(1)
        qtbot.keyClick(win, Qt.Key.Key_3)
        click(qtbot, win.canvas, 0.5, 0.5)
        qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
        assert "read-only" in win.last_error and str(mask_dir) in win.last_error
        assert "kept in memory" in win.last_error
        assert win.isWindowModified()
        qtbot.keyClick(win, Qt.Key.Key_D)  # leaving fails too: the edit stays in memory
        assert list_text(win, KEYS[0]) == f"{KEYS[0]} *"
        qtbot.keyClick(win, Qt.Key.Key_A)
        assert win.session.document.mask[0, 0] == 3
        assert win.actions.undo.text() == "Undo Brush stroke"
        np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), sample_trimap(0))
        win.close()
    finally:
        for folder in (workspace_dir, mask_dir):
            os.chmod(folder, stat.S_IRWXU)


@pytest.mark.reliability("process", "session ends without saving: the next start recovers")
def test_next_start_recovers_autosaved_edits(qtbot, window, workspace_dir):
    """A session that ends without saving (as in a crash) leaves its autosave in the journal."""
    session = window.session
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_3)
    click(qtbot, window.canvas, 0.5, 0.5)
    session.autosave_now()
    edited = session.document.mask.copy()
    session.document = None  # simulate the crash: nothing is saved into the folder

    again = open_window(qtbot)
    again.open_folder(workspace_dir)
    assert again.recovered_keys == [KEYS[0]]
    assert "Recovered unsaved edits of 1 image" in again.statusBar().currentMessage()
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), edited)
    assert again.session.journal.entries() == []


def test_opening_another_folder_saves_the_current_edits(qtbot, window, workspace_dir, tmp_path):
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_3)
    click(qtbot, window.canvas, 0.5, 0.5)
    other = tmp_path / "other"
    (other / "images").mkdir(parents=True)
    from PIL import Image

    Image.fromarray(np.zeros((8, 8), np.uint8)).save(other / "images" / "a.png")
    assert window.open_folder(other)
    assert saved_mask(workspace_dir, KEYS[0])[0, 0] == 3
    assert window.session.current_key == "images/a.png"
    assert window.settings.recent_folders[:2] == [str(other.resolve()),
                                                  str(workspace_dir.resolve())]


def another_programs_mask(workspace_dir) -> np.ndarray:
    """Another program rewrites the first image's mask file (an object far from any edit)."""
    import time

    from PIL import Image

    theirs = np.full(sample_trimap(0).shape, 2, np.uint8)
    theirs[30:45, 45:60] = 1
    time.sleep(0.02)  # a newer file time than anything this window read or wrote
    Image.fromarray(theirs).save(workspace_dir / "annotations" / "trimaps" / "cat_0.png")
    return theirs


def kept_aside(workspace_dir) -> list:
    return sorted((workspace_dir / ".unet-desktop" / "replaced").glob("cat_0-*.png"))


@pytest.mark.parametrize("how", ["ctrl_s", "leaving", "undo_then_quit"])
def test_a_mask_another_program_rewrote_is_kept_aside_before_a_save(qtbot, window,
                                                                   workspace_dir, how):
    """The file on disk changed while the image was open here: the save keeps that version in
    .unet-desktop/replaced/ and says so (it was overwritten without a word)."""
    from PIL import Image

    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_3)
    click(qtbot, window.canvas, 0.5, 0.5)
    if how == "undo_then_quit":
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    theirs = another_programs_mask(workspace_dir)
    if how == "ctrl_s":
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    elif how == "leaving":
        qtbot.keyClick(window, Qt.Key.Key_D)
    else:
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        window.close()
    (kept,) = kept_aside(workspace_dir)
    np.testing.assert_array_equal(np.asarray(Image.open(kept)), theirs)
    assert "changed by another program" in window.last_error


def test_a_recovered_autosave_keeps_a_newer_mask_file_aside(qtbot, window, workspace_dir):
    """Unsaved edits autosaved, a crash, then the mask fixed in another program before the
    restart: the recovery writes the edits and keeps the newer file aside."""
    import time

    from PIL import Image

    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_3)
    click(qtbot, window.canvas, 0.5, 0.5)
    window.session.autosave_now()
    window.session.document = None  # a crash: nothing saved into the folder
    time.sleep(0.05)
    theirs = another_programs_mask(workspace_dir)
    again = open_window(qtbot)
    assert again.open_folder(workspace_dir) and again.recovered_keys == [KEYS[0]]
    (kept,) = kept_aside(workspace_dir)
    np.testing.assert_array_equal(np.asarray(Image.open(kept)), theirs)
    assert saved_mask(workspace_dir, KEYS[0])[0, 0] == 3  # the recovered stroke
    assert "newer than your unsaved edits" in again.last_error
    again.close()


def test_a_prediction_only_looked_at_is_no_unsaved_edit(qtbot, window):
    """A prediction that became the mask by itself is written only once the user goes on with
    it: it is not among the unsaved images (what the quit dialog and the class checks read)."""
    session = window.session
    key = session.current_key
    labels = np.full(session.document.mask.shape, 1, np.uint8)
    session.accept_prediction(labels, "v-test", automatic=True)
    assert session.document.dirty and not session.is_dirty(key)
    assert session.unsaved_keys() == []
