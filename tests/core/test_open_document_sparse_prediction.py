"""In a task with sparse labels a mask file recorded 'predicted' (a batch run's) is the model's,
not the user's label: the image opens all-unlabeled, the file's mask set aside with the model
that wrote it; that state saves back as 'no mask' where nothing was set aside. A corrected
mask opens as it is (stackloop review, bug 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from unet_desktop.core.editing.history import HistoryStore
from unet_desktop.core.editing.history_archive import HistoryArchive
from unet_desktop.core.folder.open_document import open_document
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import binary_scheme

UNLABELED = 128


def _folder(root: Path) -> tuple[Workspace, np.ndarray]:
    root.mkdir(parents=True)
    for name in ("a", "b"):
        Image.fromarray(np.zeros((12, 16), np.uint8)).save(root / f"{name}.png")
    save_task(root, Task("cells", binary_scheme(("outside", "cell"), ignore_value=UNLABELED)))
    ws = Workspace.open(root, writer=True)
    mask = np.zeros((12, 16), np.uint8)
    mask[3:8, 4:10] = 255
    ws.save_mask("a.png", mask, ImageState.PREDICTED, "v7", 0.25)
    ws.save_mask("b.png", mask, ImageState.CORRECTED)
    return ws, mask


def test_a_predicted_mask_of_a_sparse_task_opens_unlabeled_and_is_set_aside(tmp_path):
    ws, mask = _folder(tmp_path / "f")
    set_aside = {}
    histories, archive = HistoryStore(), HistoryArchive(tmp_path / "archive")
    document = open_document(ws, "a.png", histories, archive, lambda _m: None, set_aside)
    assert np.all(document.mask == UNLABELED) and not document.dirty
    assert document.history.accepted is None  # nobody accepted it
    assert document.history.at_no_mask  # without what was set aside: saving it removes the file
    models_mask = set_aside["a.png"]
    np.testing.assert_array_equal(models_mask.mask, mask)
    assert (models_mask.prediction.model_version, models_mask.prediction.uncertainty) == (
        "v7", 0.25)
    assert models_mask.stands_for(document.history)
    corrected = open_document(ws, "b.png", histories, archive, lambda _m: None, set_aside)
    np.testing.assert_array_equal(corrected.mask, mask)
    assert "b.png" not in set_aside and not corrected.history.at_no_mask
    ws.close()
