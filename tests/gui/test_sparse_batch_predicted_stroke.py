"""A mask Batch Predict wrote in place (recorded 'predicted') in a task with sparse labels is the
model's output, not the user's label: the image opens all-unlabeled with the prediction as its
layer, one stroke saved is a correction of that stroke alone, undoing it writes the model's mask
back 'predicted', and Enter still accepts the prediction. Without sparse labels editing such a
mask still makes the whole mask the correction (stackloop review, bug 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS
from tests.gui.helpers import drag
from tests.gui.test_sparse_correction import SCHEME, UNLABELED, binary_model
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import binary_scheme

H, W = 40, 48
DENSE = binary_scheme(("outside", "cell"))


def the_prediction() -> np.ndarray:
    """What the batch run wrote: every pixel labelled, mostly 'cell'."""
    mask = np.full((H, W), 255, np.uint8)
    mask[:, :8] = 0
    return mask


def folder(tmp_path: Path, stack: bool, scheme) -> tuple[Path, str, str]:
    """A task folder of one stack of 3 slices or of two images: (root, the image the batch
    predicted, another image)."""
    root = tmp_path / "cells"
    root.mkdir()
    rng = np.random.default_rng(0)
    if stack:
        tifffile.imwrite(root / "vol.tif", rng.integers(0, 255, (3, H, W), dtype=np.uint8),
                         photometric="minisblack")
    else:
        for i in range(2):
            Image.fromarray(rng.integers(0, 255, (H, W), dtype=np.uint8)).save(
                root / f"cell_{i}.png")
    save_task(root, Task("cells", scheme))
    ws = Workspace.open(root)
    keys = [e.key for e in ws]
    ws.close()
    return root, keys[1], keys[0]


def batch_predicted(root: Path, key: str, version: str) -> None:
    ws = Workspace.open(root, writer=True)  # as Batch Predict in place writes it
    ws.save_mask(key, the_prediction(), ImageState.PREDICTED, version, 0.3)
    ws.close()


def on_disk(root: Path, key: str) -> tuple[np.ndarray | None, ImageState]:
    ws = Workspace.open(root)
    try:
        return ws.load_mask(key), ws[key].state
    finally:
        ws.close()


def window_on(qtbot, tmp_path, stack, scheme):
    root, key, other = folder(tmp_path, stack, scheme)
    model = binary_model(tmp_path / "cells-v0.safetensors", scheme)
    win = open_window(qtbot, model_path=model, ask_for_task=True)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    # the model in use wrote it: a dense task keeps it as it is (no newer guess replaces it)
    batch_predicted(root, key, win.models.active.version)
    assert win.open_folder(root)
    select(qtbot, win, key)
    return root, key, other, win


def select(qtbot, win, key):
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.prediction.shown is not None
                    and win.prediction.shown.key == key, timeout=TIMEOUT_MS)


def one_stroke(qtbot, win):
    """A 3-px stroke of the background class (value 0) over a few pixels the model called
    'cell'."""
    win.tools.set_tool("brush")
    win.tools.set_value(0)
    win.tools.set_size(3)
    drag(qtbot, win.canvas, [(20, 20), (30, 20)])


@pytest.mark.parametrize("stack", [True, False], ids=["stack slice", "single image"])
def test_one_stroke_on_a_batch_predicted_image_of_a_sparse_task_saves_the_stroke(
        qtbot, tmp_path, stack):
    root, key, other, win = window_on(qtbot, tmp_path, stack, SCHEME)
    s = win.session
    assert np.all(s.document.mask == UNLABELED) and not s.document.dirty
    assert win.canvas.has_prediction()  # the model's output is the prediction layer
    assert s.workspace[key].state is ImageState.PREDICTED
    with qtbot.waitSignal(s.error) as said:  # nothing on screen is labelled: nothing verified
        assert not s.mark_verified()
    assert "Accept the prediction (Enter) or paint" in said.args[0]
    assert s.workspace[key].state is ImageState.PREDICTED
    one_stroke(qtbot, win)
    assert s.save()
    saved, state = on_disk(root, key)
    painted = saved != UNLABELED
    assert state is ImageState.CORRECTED
    assert 0 < painted.sum() < 60 and set(np.unique(saved[painted])) == {0}  # the stroke alone
    # undone, the image is as it opened: leaving it writes the model's mask back 'predicted'
    assert s.undo() is not None
    assert np.all(s.document.mask == UNLABELED) and s.document.dirty
    select(qtbot, win, other)
    saved, state = on_disk(root, key)
    np.testing.assert_array_equal(saved, the_prediction())
    assert state is ImageState.PREDICTED
    assert s.workspace[key].model_version == win.models.active.version
    assert key not in [e.key for e in s.workspace.labelled()]
    # Enter accepts the prediction, as before: then it is the user's, every pixel labelled
    select(qtbot, win, key)
    assert not s.document.dirty and np.all(s.document.mask == UNLABELED)
    assert win.prediction.accept()
    assert s.save()
    saved, state = on_disk(root, key)
    assert state is ImageState.CORRECTED and UNLABELED not in np.unique(saved)
    win.close()


@pytest.mark.parametrize("stack", [True, False], ids=["stack slice", "single image"])
def test_without_sparse_labels_an_edited_batch_prediction_is_the_correction(
        qtbot, tmp_path, stack):
    root, key, _other, win = window_on(qtbot, tmp_path, stack, DENSE)
    s = win.session
    opened = s.document.mask.copy()  # the batch's mask (or the model's newer guess over it)
    assert set(np.unique(opened)) <= {0, 255}
    one_stroke(qtbot, win)
    assert s.save()
    saved, state = on_disk(root, key)
    assert state is ImageState.CORRECTED
    changed = saved != opened  # the whole mask is the correction, the stroke in it
    assert 0 < changed.sum() < 60 and set(np.unique(saved[changed])) == {0}
    win.close()
