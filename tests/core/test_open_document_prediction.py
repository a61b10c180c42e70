"""Opening an image whose mask file is recorded 'predicted' marks that state of its history as
an accepted prediction of the recorded model; a mask that was not read from the file (another
size: the document starts empty) and a corrected one are not marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unet_desktop.core.editing.history import HistoryStore
from unet_desktop.core.editing.history_archive import HistoryArchive
from unet_desktop.core.folder.open_document import open_document
from unet_desktop.core.folder.workspace import ImageState, Workspace


def _folder(root: Path) -> Workspace:
    (root / "images").mkdir(parents=True)
    for name in ("a", "b", "c"):
        Image.fromarray(np.zeros((12, 16), np.uint8)).save(root / "images" / f"{name}.png")
    ws = Workspace.open(root, writer=True)
    mask = np.zeros((12, 16), np.uint8)
    mask[3:8, 4:10] = 255
    ws.save_mask("images/a.png", mask, ImageState.PREDICTED, "v7", 0.25)
    ws.save_mask("images/b.png", mask, ImageState.CORRECTED)
    ws.save_mask("images/c.png", mask, ImageState.PREDICTED, "v7", 0.25)
    return ws


def _open(ws: Workspace, key: str, tmp_path: Path):
    return open_document(ws, key, HistoryStore(), HistoryArchive(tmp_path / "archive"),
                         lambda _message: None)


def test_a_predicted_mask_file_opens_as_an_accepted_prediction(tmp_path):
    ws = _folder(tmp_path / "f")
    accepted = _open(ws, "images/a.png", tmp_path).history.accepted
    assert accepted is not None
    assert (accepted.model_version, accepted.uncertainty, accepted.automatic) == ("v7", 0.25,
                                                                                  False)
    assert _open(ws, "images/b.png", tmp_path).history.accepted is None
    ws.close()


def test_a_predicted_mask_of_another_size_is_not_marked(tmp_path):
    ws = _folder(tmp_path / "f")
    Image.fromarray(np.ones((6, 8), np.uint8)).save(ws["images/c.png"].mask_path)
    document = _open(ws, "images/c.png", tmp_path)
    assert "images/c.png" in ws.invalid  # the document starts from an empty mask
    assert document.history.accepted is None
    ws.close()
