"""Opening another folder while the open one's save fails (a full disk): the edit is not kept
in memory (the window leaves that folder) but in the recovery journal, and the message says so;
opening the folder again brings it back."""

from __future__ import annotations

import errno
import shutil

from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, open_window
from tests.gui.helpers import click
from unet_desktop.core.folder.workspace import Workspace


def test_a_failed_save_on_a_folder_switch_says_where_the_edit_is(qtbot, workspace_dir, tmp_path,
                                                                 monkeypatch):
    other = shutil.copytree(workspace_dir, tmp_path / "other")
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir) and win.session.current_key == KEYS[0]
    win.tools.set_size(1)
    qtbot.keyClick(win, Qt.Key.Key_3)
    click(qtbot, win.canvas, 0.5, 0.5)
    assert win.session.document.dirty
    real_save = Workspace.save_mask

    def full_disk(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Workspace, "save_mask", full_disk)
    win.last_error = ""
    assert win.open_folder(other)
    assert "No space left on device" in win.last_error
    assert "kept in memory" not in win.last_error
    assert f"kept in the recovery journal: open {workspace_dir} again" in win.last_error

    monkeypatch.setattr(Workspace, "save_mask", real_save)  # space is back
    assert win.open_folder(workspace_dir)
    assert KEYS[0] in win.recovered_keys  # as the message said
    win.confirm_discard = lambda keys: True
    win.close()
