"""The window under bad files and disk faults: messages that name the file, nothing lost."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import KEYS, sample_trimap, saved_mask
from tests.gui.helpers import click
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io import atomic

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.mark.reliability("images", "corrupt image selected in the window")
@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"", b"plain text"],
                         ids=["truncated-png", "empty", "text"])
def test_an_unreadable_image_is_named_and_the_next_one_opens(qtbot, window, workspace_dir,
                                                             content):
    broken = workspace_dir / KEYS[1]
    broken.write_bytes(content)
    window.file_dock.select_key(KEYS[1])
    assert str(broken) in window.last_error and "Cannot open the image" in window.last_error
    assert window.session.document is None and window.session.current_key is None
    assert window._error_box is not None and window._error_box.isVisible()
    assert str(broken) in window._error_box.text()
    click(qtbot, window.canvas, 5.5, 5.5)  # painting on the empty canvas does nothing

    qtbot.keyClick(window, Qt.Key.Key_D)  # next image
    assert window.session.current_key == KEYS[2]
    np.testing.assert_array_equal(window.session.document.mask, sample_trimap(2))
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_1)
    click(qtbot, window.canvas, 0.5, 0.5)
    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
    assert saved_mask(workspace_dir, KEYS[2])[0, 0] == 1


def _fail_fsync_with_full_disk(monkeypatch, folder: Path) -> None:
    def fsync(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", fsync)


def _fail_replace_as_locked(monkeypatch, folder: Path) -> None:
    def replace(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", str(dst))

    monkeypatch.setattr(atomic.os, "replace", replace)


def _fail_mkstemp_as_read_only(monkeypatch, folder: Path) -> None:
    def mkstemp(*args, **kwargs):  # a chmod would not stop root: refuse like a read-only mount
        raise OSError(errno.EROFS, "Read-only file system", str(folder))

    monkeypatch.setattr(atomic.tempfile, "mkstemp", mkstemp)


FAULTS = {
    "full disk (ENOSPC on fsync)": ("No space left on device", _fail_fsync_with_full_disk),
    "file locked (EACCES on replace)": ("Permission denied", _fail_replace_as_locked),
    "read-only file system (EROFS)": ("Read-only file system", _fail_mkstemp_as_read_only),
}


@pytest.mark.reliability("disk", "save fails, then succeeds once the fault clears")
@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failed_save_keeps_the_file_and_the_edits_until_the_fault_clears(
        qtbot, window, workspace_dir, monkeypatch, fault):
    reason, inject = FAULTS[fault]
    mask_dir = workspace_dir / "annotations" / "trimaps"
    mask_file = mask_dir / "cat_0.png"
    before = mask_file.read_bytes()
    window.confirm_discard = lambda keys: pytest.fail(f"asked to discard {keys}")
    window.tools.set_size(1)
    qtbot.keyClick(window, Qt.Key.Key_3)
    click(qtbot, window.canvas, 0.5, 0.5)
    edited = window.session.document.mask.copy()
    assert edited[0, 0] == 3 != sample_trimap(0)[0, 0]

    with monkeypatch.context() as patch:
        inject(patch, mask_dir)
        qtbot.keyClick(window, Qt.Key.Key_S, CTRL)
        assert "Could not save the mask" in window.last_error
        assert str(mask_file) in window.last_error and reason in window.last_error
        assert "kept in memory" in window.last_error
        assert window.isWindowModified()
        qtbot.keyClick(window, Qt.Key.Key_D)  # leaving fails too: kept in memory
        assert window.session.current_key == KEYS[1]
        assert window.file_dock.row_data(KEYS[0], Qt.ItemDataRole.DisplayRole) == f"{KEYS[0]} *"
        qtbot.keyClick(window, Qt.Key.Key_A)  # back: the edits are there
        np.testing.assert_array_equal(window.session.document.mask, edited)
        assert window.actions.undo.text() == "Undo Brush stroke"
        assert mask_file.read_bytes() == before  # the old file is intact
        assert not [p for p in mask_dir.iterdir() if p.name.endswith(atomic.TEMP_SUFFIX)]

    qtbot.keyClick(window, Qt.Key.Key_S, CTRL)  # the fault cleared: saved
    assert not window.isWindowModified()
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), edited)
    assert Workspace.open(workspace_dir)[KEYS[0]].state is ImageState.CORRECTED
    assert window.file_dock.row_data(KEYS[0], Qt.ItemDataRole.DisplayRole) == KEYS[0]
