"""Crash recovery where the autosave does not simply match: an image renamed (or a folder
moved) before the restart left its unsaved edits neither recovered nor said, and a slice of a
stack gave a false "mask file is newer than your unsaved edits" alarm when only another slice's
page of the shared mask stack had been written after the autosave."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import tifffile
from PIL import Image

from unet_desktop.core.folder import autosave
from unet_desktop.core.folder.autosave import RecoveryJournal, default_recovery_dir
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.editing.session import EditingSession

EDITS = np.zeros((8, 8), np.uint8)
EDITS[1:4, 1:4] = 255


def dead_owner() -> str:
    """The owner of a window that ended (a process that ran and is gone)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return f"{socket.gethostname()}:{int(done.stdout)}"


def leave_autosave(monkeypatch, root, key, mask, scheme) -> None:
    """An autosave of ``key`` left by a window that crashed, a minute ago."""
    owner, now = dead_owner(), time.time()
    with monkeypatch.context() as patch:
        patch.setattr(autosave, "this_process", lambda: owner)
        patch.setattr(autosave.time, "time", lambda: now - 60)
        RecoveryJournal(default_recovery_dir()).save(root, key, mask, scheme)


def autosaves(root):
    return RecoveryJournal(default_recovery_dir()).entries(root)


def flat_folder(root):
    root.mkdir()
    for i in range(2):
        Image.fromarray(np.full((8, 8), 50 * i, np.uint8)).save(root / f"img_{i}.png")
    return root


def open_session(qtbot, root):
    session = EditingSession()
    errors: list[str] = []
    session.error.connect(errors.append)
    recovered = session.open_workspace(root)
    return session, recovered, errors


def test_edits_of_a_renamed_image_are_said_and_kept(qtbot, tmp_path, monkeypatch):
    root = flat_folder(tmp_path / "F")
    leave_autosave(monkeypatch, root, "img_1.png", EDITS, binary_scheme())
    os.rename(root / "img_1.png", root / "img_1 renamed.png")

    session, recovered, errors = open_session(qtbot, root)
    assert recovered == []
    journal = RecoveryJournal(default_recovery_dir())
    [kept] = journal.entries(root)
    assert len(errors) == 1
    assert "img_1.png (autosaved" in errors[0] and kept.mask_file in errors[0]
    assert "renamed or deleted?" in errors[0] and str(journal.masks_dir) in errors[0]
    session.save_all("quit")
    session.workspace.close()
    assert journal.mask_path(kept).is_file()  # still there for the user


def test_edits_left_in_a_folder_since_moved_are_said(qtbot, tmp_path, monkeypatch):
    old = flat_folder(tmp_path / "before")
    leave_autosave(monkeypatch, old, "img_0.png", EDITS, binary_scheme())
    moved = tmp_path / "after"
    os.rename(old, moved)

    _, recovered, errors = open_session(qtbot, moved)
    assert recovered == []
    assert len(errors) == 1
    assert f"img_0.png of {old} (autosaved" in errors[0]
    assert "that folder no longer exists (moved or renamed?)" in errors[0]


def test_a_slice_recovered_after_another_slice_was_written_gives_no_alarm(qtbot, tmp_path,
                                                                          monkeypatch):
    root = tmp_path / "stack"
    root.mkdir()
    volume = np.zeros((4, 8, 8), np.uint8)
    volume[:, 2:6, 2:6] = 200
    tifffile.imwrite(root / "vol.tif", volume, photometric="minisblack")
    ws = Workspace.open(root, writer=True)
    keys = [e.key for e in ws]
    ws.save_mask(keys[0], EDITS, ImageState.CORRECTED)
    leave_autosave(monkeypatch, root, keys[1], EDITS, ws.scheme)
    ws.save_mask(keys[3], EDITS, ImageState.PREDICTED)  # a batch writes another slice later
    ws.close()
    assert (root / "masks" / "vol.tif").stat().st_mtime > autosaves(root)[0].saved_at

    _, recovered, errors = open_session(qtbot, root)
    assert recovered == [keys[1]]
    assert errors == []
    assert not (root / ".unet-desktop" / "replaced").exists()
    again = Workspace.open(root)
    np.testing.assert_array_equal(again.load_mask(keys[1]), EDITS)
    assert again[keys[3]].state is ImageState.PREDICTED


def test_a_labelled_slice_whose_stack_was_written_later_is_said(qtbot, tmp_path, monkeypatch):
    root = tmp_path / "stack"
    root.mkdir()
    tifffile.imwrite(root / "vol.tif", np.zeros((3, 8, 8), np.uint8), photometric="minisblack")
    ws = Workspace.open(root, writer=True)
    keys = [e.key for e in ws]
    leave_autosave(monkeypatch, root, keys[1], EDITS, ws.scheme)
    ws.save_mask(keys[1], np.zeros((8, 8), np.uint8), ImageState.CORRECTED)
    ws.close()

    _, recovered, errors = open_session(qtbot, root)
    assert recovered == [keys[1]]
    said = (f"{keys[1]}: its mask stack vol.tif was written after your unsaved edits (for this "
            "slice or another) and they were recovered over it; the stack as it was is kept in "
            ".unet-desktop/replaced/")
    assert errors == [said]
    assert len(list((root / ".unet-desktop" / "replaced").iterdir())) == 1
