"""Two windows on one folder and the recovery journal: a read-only window (another process
writes the folder) forgot a crashed writer's autosave when it merely showed that image; taking
the folder over wrote its stale edit over the writer's later correction with no copy kept; after
the writer closed, a refused save and the quit dialog offered nothing but losing the edits.
Also: leftovers of a folder since renamed were named in every folder with an image of that name,
at every open; an image only looked at was skipped by a batch run as "being edited"."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import KEYS, open_window, sample_trimap, saved_mask
from tests.gui.test_recovery_unmatched import EDITS, flat_folder, leave_autosave, open_session
from unet_desktop.core.folder.autosave import RecoveryJournal, default_recovery_dir
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import binary_scheme


@pytest.fixture
def held(workspace_dir):
    """The folder held by another live window (process); ``end()`` closes that window."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    lock = workspace_dir / ".unet-desktop" / "writer.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text(json.dumps({"host": socket.gethostname(), "pid": proc.pid,
                                "since": "2026-12-07T17:00:00Z"}))

    class Holder:
        @staticmethod
        def end():  # as the writer window closing does: its lock file goes
            proc.kill()
            proc.wait()
            lock.unlink(missing_ok=True)

    yield Holder
    proc.kill()
    proc.wait()


def edit_of(i: int) -> np.ndarray:
    mask = sample_trimap(i).copy()
    mask[40:48, 50:64] = 1
    return mask


def test_a_read_only_window_keeps_a_crashed_writers_autosave(qtbot, workspace_dir, held,
                                                              monkeypatch):
    b = open_window(qtbot)
    assert b.open_folder(workspace_dir) and b.session.workspace.read_only
    assert b.session.current_key == KEYS[0]  # only looked at
    scheme = b.session.workspace.scheme
    leave_autosave(monkeypatch, workspace_dir, KEYS[0], edit_of(0), scheme)  # the writer crashed
    b.session.open_image(KEYS[1])  # moves on
    journal = RecoveryJournal(default_recovery_dir())
    assert [e.key for e in journal.left_behind(workspace_dir)] == [KEYS[0]]

    held.end()
    assert b.open_folder(workspace_dir) and not b.session.workspace.read_only
    assert b.recovered_keys == [KEYS[0]]
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), edit_of(0))
    b.close()


def test_taking_over_keeps_the_writers_later_correction(qtbot, workspace_dir, held):
    b = open_window(qtbot)
    assert b.open_folder(workspace_dir)  # read-only, shows cat_0 as it is on disk
    session = b.session
    writer = Workspace.open(workspace_dir)  # the writer window saves a correction of cat_0
    theirs = np.full(sample_trimap(0).shape, 2, np.uint8)
    theirs[0:10, 0:10] = 1
    writer.save_mask(KEYS[0], theirs, ImageState.CORRECTED)
    writer.save_manifest()
    session.document.replace_mask(edit_of(0), "stale edit")  # from the mask read before
    session.edit_finished()
    session.autosave_now()
    held.end()
    messages: list[str] = []
    session.error.connect(messages.append)

    assert b.open_folder(workspace_dir) and not session.workspace.read_only
    kept = list((workspace_dir / ".unet-desktop" / "replaced").iterdir())
    assert len(kept) == 1
    np.testing.assert_array_equal(np.asarray(Image.open(kept[0])), theirs)
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), edit_of(0))
    assert not any("Could not save" in m for m in messages), messages
    assert any("kept in .unet-desktop/replaced/" in m for m in messages), messages
    b.close()


def test_after_the_writer_ended_the_window_offers_to_write_the_folder(qtbot, workspace_dir,
                                                                      held, monkeypatch):
    b = open_window(qtbot)
    assert b.open_folder(workspace_dir)
    session = b.session
    session.document.replace_mask(edit_of(0), "edit")
    session.edit_finished()
    messages: list[str] = []
    session.error.connect(messages.append)
    held.end()

    assert not session.save()
    assert "no longer holds it: open the folder again here" in messages[-1]
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: (
        asked.append(a[2]), QMessageBox.StandardButton.Save)[1])
    b.close()
    assert len(asked) == 1 and "no longer holds it" in asked[0]
    np.testing.assert_array_equal(saved_mask(workspace_dir, KEYS[0]), edit_of(0))


def test_leftovers_of_a_renamed_folder_are_named_only_there_and_once(qtbot, tmp_path,
                                                                     monkeypatch):
    old = flat_folder(tmp_path / "experiment_A")
    leave_autosave(monkeypatch, old, "img_0.png", EDITS, binary_scheme())
    moved = tmp_path / "experiment_A_renamed"
    os.rename(old, moved)
    unrelated = flat_folder(tmp_path / "unrelated_B")  # an img_0.png of its own

    said = []
    for folder in (unrelated, moved, moved):
        session, _, errors = open_session(qtbot, folder)
        said.append(errors)
        session.save_all("quit")
        session.workspace.close()
    assert said[0] == [] and said[2] == []  # not in another folder, not at every open
    [note] = said[1]
    assert "img_0.png of" in note and "File > Discard Unrecovered Autosaves" in note

    window = open_window(qtbot)
    assert window.open_folder(unrelated)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Discard)
    assert window.discard_unrecovered_autosaves() == 1
    assert RecoveryJournal(default_recovery_dir()).entries() == []
    window.close()


def test_an_image_only_looked_at_is_left_to_a_batch_run(qtbot, window, workspace_dir):
    session = window.session
    key = session.current_key
    assert not session.is_protected(key)
    session.accept_prediction(edit_of(0), "v1", automatic=True)  # shown by itself
    assert not session.is_protected(key)

    batch = np.full(sample_trimap(0).shape, 3, np.uint8)  # what a batch run writes
    session.workspace.save_mask(key, batch, ImageState.PREDICTED, model_version="v1")
    assert session.reload_image(key)
    np.testing.assert_array_equal(session.document.mask, batch)
    assert not session.document.dirty

    session.document.replace_mask(edit_of(0), "edit")
    session.edit_finished()
    assert session.is_protected(key)
    session.undo()
    assert not session.is_protected(key)
