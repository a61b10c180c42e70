"""The disk under an open folder: a folder renamed (or moved, deleted, its drive disconnected)
while open is not re-created by the next save (a save said "Saved" and made the old path again,
holding only the mask and a manifest, while the moved folder never got the edit); a journal line
torn by a full disk or a kill no longer swallows the next line appended after it (a prediction's
record was lost and it reopened as the user's correction)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.journal import Journal
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import binary_scheme


def folder(root):
    (root / "images").mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "images" / "a.png")
    return root


def test_a_folder_renamed_while_open_is_not_made_again_by_a_save(tmp_path):
    ws = Workspace.open(folder(tmp_path / "pets"), binary_scheme())
    (tmp_path / "pets").rename(tmp_path / "pets_2024")
    with pytest.raises(MaskError, match="renamed, moved or deleted since it was opened"):
        ws.save_mask("images/a.png", np.full((8, 8), 255, np.uint8), "corrected")
    with pytest.raises(FileError, match="open it again where it is now"):
        ws.save_manifest()
    assert not (tmp_path / "pets").exists()
    assert not list((tmp_path / "pets_2024").rglob("masks/*"))


def test_a_folder_still_in_place_saves(tmp_path):
    ws = Workspace.open(folder(tmp_path / "pets"), binary_scheme())
    written = ws.save_mask("images/a.png", np.full((8, 8), 255, np.uint8), "corrected")
    assert written.is_file()
    ws.save_manifest()


def test_a_torn_journal_line_does_not_swallow_the_next(tmp_path):
    journal = Journal(tmp_path / "j.journal")
    journal.append({"key": "a", "state": "predicted"})
    with open(journal.path, "ab") as f:
        f.write(b'{"key": "b", "sta')  # the disk filled mid-line
    journal.append({"key": "c", "state": "predicted"})
    assert [e["key"] for e in journal.read()] == ["a", "c"]


def test_nor_by_its_view_settings_task_or_a_mask_taken_back(tmp_path):
    """A contrast change (view.json) and Mask > Classes (task.json) made the renamed folder's old
    path again; so did undoing an image back to no mask."""
    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.folder.view_settings import ViewSettings, save_view_settings

    ws = Workspace.open(folder(tmp_path / "pets"), binary_scheme())
    ws.save_mask("images/a.png", np.full((8, 8), 255, np.uint8), "corrected")
    (tmp_path / "pets").rename(tmp_path / "pets_2024")
    with pytest.raises(FileError, match="is not there any more"):
        save_view_settings(tmp_path / "pets", ViewSettings())
    with pytest.raises(FileError, match="is not there any more"):
        save_task(tmp_path / "pets", Task("pets", binary_scheme()))
    with pytest.raises(MaskError, match="renamed, moved or deleted since it was opened"):
        ws.remove_mask("images/a.png")
    assert not (tmp_path / "pets").exists()
