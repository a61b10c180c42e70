"""Undo back to 'no mask file' after another program rewrote the mask file: the save keeps that
program's file in .unet-desktop/replaced/ and says so, as a plain save over it does."""

from __future__ import annotations

import os
import time

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window, sample_trimap
from tests.gui.helpers import drag
from unet_desktop.core.folder.workspace import ImageState

CTRL = Qt.KeyboardModifier.ControlModifier
DOG = KEYS[3]  # no mask file


def test_undo_to_no_mask_over_another_programs_file_says_it_was_kept(qtbot, workspace_dir):
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    s = win.session
    errors: list[str] = []
    s.error.connect(errors.append)
    win.file_dock.select_key(DOG)
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    qtbot.keyClick(win, Qt.Key.Key_3)
    drag(qtbot, win.canvas, [(2.5, 2.5), (40.5, 2.5)])
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    assert errors == []
    path = workspace_dir / "annotations" / "trimaps" / "dog_0.png"
    Image.fromarray(sample_trimap(5)).save(path)  # another program writes it
    later = time.time() + 5
    os.utime(path, (later, later))
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    qtbot.keyClick(win, Qt.Key.Key_S, CTRL)
    assert not path.exists() and s.workspace[DOG].state is ImageState.UNLABELED
    [kept] = (workspace_dir / ".unet-desktop" / "replaced").glob("dog_0*")
    np.testing.assert_array_equal(np.array(Image.open(kept)), sample_trimap(5))
    said = (f"{DOG}: its mask file was changed by another program while it was open here; that "
            "version was kept in .unet-desktop/replaced/ and the image is unlabeled again (no "
            "mask file), as your undo left it")
    assert errors == [said]
    win.close()
