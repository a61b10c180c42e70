"""An image that opened with no mask file, edited and saved, then undone all the way back: it is
unlabeled again (the file saved meanwhile kept aside), not a 'corrected' empty mask that counts
as a training image; also after a restart, and a redo brings the edit back to the file."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.helpers import drag
from unet_desktop.core.folder.workspace import ImageState, Workspace

CTRL = Qt.KeyboardModifier.ControlModifier
DOG = KEYS[3]  # no mask file


def mask_file(root):
    return root / "annotations" / "trimaps" / "dog_0.png"


def paint_and_save(qtbot, win) -> np.ndarray:
    win.file_dock.select_key(DOG)
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    qtbot.keyClick(win, Qt.Key.Key_3)
    drag(qtbot, win.canvas, [(2.5, 2.5), (40.5, 2.5)])
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    assert win.session.workspace[DOG].state is ImageState.CORRECTED
    return win.session.document.mask.copy()


def assert_unlabeled_again(win, root) -> None:
    assert not mask_file(root).exists()
    assert win.session.workspace[DOG].state is ImageState.UNLABELED
    assert DOG not in [e.key for e in win.session.workspace.labelled()]
    assert list((root / ".unet-desktop" / "replaced").glob("dog_0*"))  # the saved one, kept


def test_undoing_every_edit_of_an_unlabeled_image_leaves_it_unlabeled(qtbot, window,
                                                                      workspace_dir):
    s = window.session
    s.accept_prediction(sample_trimap(2), "v1", 0.1)  # an accepted prediction too
    painted = paint_and_save(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    assert window.isWindowModified()
    window.file_dock.select_key(KEYS[0])
    assert_unlabeled_again(window, workspace_dir)
    assert Workspace.open(workspace_dir)[DOG].state is ImageState.UNLABELED
    window.file_dock.select_key(DOG)
    qtbot.keyClick(window, Qt.Key.Key_Y, CTRL)  # redo: the stroke is an edit to save again
    window.file_dock.select_key(KEYS[0])
    np.testing.assert_array_equal(saved_mask(workspace_dir, DOG), painted)
    assert s.workspace[DOG].state is ImageState.CORRECTED


def test_undoing_back_to_no_mask_after_a_restart_leaves_it_unlabeled(qtbot, workspace_dir):
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    paint_and_save(qtbot, win)
    assert win.close()
    win = open_window(qtbot)  # the history comes from the archive
    assert win.open_folder(workspace_dir)
    win.file_dock.select_key(DOG)
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert not win.actions.undo.isEnabled()
    win.file_dock.select_key(KEYS[0])
    assert_unlabeled_again(win, workspace_dir)
    win.close()


def test_the_status_bar_says_the_image_has_no_mask_again(qtbot, window, workspace_dir):
    """It said "Saved dog_0" when the save took the mask away."""
    said: list[str] = []
    window.statusBar().messageChanged.connect(said.append)
    paint_and_save(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Z, CTRL)
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    assert_unlabeled_again(window, workspace_dir)
    assert said[-1].startswith(f"{DOG} has no mask again (every edit undone)"), said
