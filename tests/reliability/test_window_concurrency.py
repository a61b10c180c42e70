"""The window with a model: a batch run over the folder being edited, rapid image switching
under load, and a model whose label scheme is not the folder's."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    SIZE,
    TIMEOUT_MS,
    image_key,
    make_pets,
    tiny_model,
    tiny_pets,
)
from tests.gui.helpers import drag
from tests.ml.conftest import make_model_file as make_model_of_scheme
from unet_desktop.core.editing.mask_values import erase_value
from unet_desktop.core.errors import MaskError
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import load_model_file

AGREEMENT = 0.99  # float noise between threads may flip a tie; another image's labels differ


def window_with_model(qtbot, model_path, folder, auto_accept: bool = True):
    win = open_window(qtbot, model_path=model_path)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    win.prediction_dock.auto_check.setChecked(auto_accept)
    assert win.open_folder(folder)
    return win


@pytest.mark.reliability("concurrency", "batch predict over the folder being edited")
def test_batch_predict_over_the_open_folder_keeps_edits_and_corrected_masks(qtbot, tiny_pets,
                                                                             tiny_model):
    win = window_with_model(qtbot, tiny_model, tiny_pets, auto_accept=False)
    trimaps = tiny_pets / "annotations" / "trimaps"
    corrected = {name: (trimaps / name).read_bytes() for name in sorted(
        p.name for p in trimaps.iterdir())}
    assert len(corrected) == 3
    key = image_key(4)  # unlabeled; the user paints on it and has not saved
    win.file_dock.select_key(key)
    win.tools.set_tool("brush")
    win.tools.set_value(1)
    drag(qtbot, win.canvas, [(4.5, 4.5), (30.5, 20.5)])
    edited = win.session.document.mask.copy()
    assert win.session.document.dirty and (edited == 1).sum() > 50

    dialog = win.training_commands.batch_predict()
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as finished:
        assert dialog.start() is not None
    summary = finished.args[0]
    assert not summary.cancelled and not summary.failed
    skipped = dict(summary.skipped)
    assert all(skipped[image_key(i)] == "kept: marked corrected" for i in range(3))
    assert skipped[key] == "being edited" and not (trimaps / "img_04.png").exists()
    for name, data in corrected.items():
        assert (trimaps / name).read_bytes() == data
    document = win.session.document  # the image on screen keeps the user's edits
    assert document.key == key and document.dirty
    np.testing.assert_array_equal(document.mask, edited)
    assert document.undo_label == "Undo Brush stroke"

    win.file_dock.select_key(image_key(0))  # leaving saves the edits, over the batch's guess
    np.testing.assert_array_equal(read_mask(trimaps / "img_04.png"), edited)
    reopened = Workspace.open(tiny_pets)
    assert reopened[key].state is ImageState.CORRECTED
    for i in (3, 5):
        assert reopened[image_key(i)].state is ImageState.PREDICTED
    for i in range(3):
        assert reopened[image_key(i)].state is ImageState.CORRECTED
    win.close()


@pytest.mark.reliability("concurrency", "batch predict never writes an image with edits not "
                                        "saved (its save failed); one only looked at is predicted")
def test_batch_predict_skips_unsaved_edits_and_predicts_the_image_only_looked_at(
        qtbot, tiny_pets, tiny_model, monkeypatch):
    win = window_with_model(qtbot, tiny_model, tiny_pets, auto_accept=False)
    session = win.session
    trimaps = tiny_pets / "annotations" / "trimaps"
    failing, on_screen, free = image_key(3), image_key(5), image_key(4)
    win.file_dock.select_key(failing)
    win.tools.set_tool("brush")
    win.tools.set_value(1)
    drag(qtbot, win.canvas, [(4.5, 4.5), (20.5, 20.5)])
    save_mask = session.workspace.save_mask

    def full_disk_for_one_image(key, *args, **kwargs):
        if key == failing:
            raise MaskError(trimaps / "img_03.png", "cannot write (No space left on device)")
        return save_mask(key, *args, **kwargs)

    monkeypatch.setattr(session.workspace, "save_mask", full_disk_for_one_image)
    win.file_dock.select_key(on_screen)  # leaving fails: the edits stay in memory
    assert session.is_dirty(failing) and session.current_key == on_screen
    assert session.is_protected(failing)  # edits not saved
    assert not session.is_protected(on_screen)  # only looked at: a batch run may predict it
    assert not session.is_protected(free)
    assert not session.is_protected(on_screen, tiny_pets.parent / "another-folder")

    dialog = win.training_commands.batch_predict()
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as finished:
        assert dialog.start() is not None
    summary = finished.args[0]
    assert sorted(k for k, _ in summary.written) == [free, on_screen]
    assert dict(summary.skipped)[failing] == "being edited"
    assert not (trimaps / "img_03.png").exists() and (trimaps / "img_05.png").exists()

    monkeypatch.undo()  # the disk has room again: the edits are saved, nothing was lost
    assert session.save_all("quit") == []
    reopened = Workspace.open(tiny_pets)
    assert reopened[failing].state is ImageState.CORRECTED
    assert reopened[on_screen].state is ImageState.PREDICTED
    assert reopened[free].state is ImageState.PREDICTED
    win.close()


@pytest.mark.reliability("concurrency", "image opened while a batch write of it is in progress")
def test_opening_an_image_waits_for_a_batch_write_in_progress(qtbot, tiny_pets, tiny_model):
    win = window_with_model(qtbot, tiny_model, tiny_pets, auto_accept=False)
    ws, key = win.session.workspace, image_key(4)
    written = np.full(SIZE, 3, np.uint8)
    holding = threading.Event()

    def batch_writer():  # what ml.inference.batch_predict does: check and write under the lock
        with ws.write_lock:
            holding.set()
            time.sleep(0.2)
            ws.save_mask(key, written, ImageState.PREDICTED, model_version="v1")

    writer = threading.Thread(target=batch_writer)
    writer.start()
    assert holding.wait(5.0)
    win.file_dock.select_key(key)  # waits for the write lock, so it loads the mask just written
    writer.join(5.0)
    np.testing.assert_array_equal(win.session.document.mask, written)
    assert not win.session.document.dirty
    win.close()


class JitteryNet(torch.nn.Module):
    """A real network that takes a random 0-4 ms longer per forward pass (a busy device)."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net
        self.rng = random.Random(0)

    def forward(self, x):
        time.sleep(self.rng.uniform(0.0, 0.004))
        return self.net(x)


def _agreement(a: np.ndarray, b: np.ndarray) -> float:
    return float((a == b).mean()) if a.shape == b.shape else 0.0


@pytest.mark.reliability("concurrency", "300 rapid image switches with a jittery model")
def test_rapid_switching_never_paints_a_prediction_on_the_wrong_image(qtbot, tmp_path,
                                                                     tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=12, n_labelled=0)
    ws = Workspace.open(pets)
    net, meta = load_model_file(tiny_model)
    reference = Predictor(net, meta, "cpu", fuse_bn=False)
    expected = {e.key: reference.predict(ws.load_image(e.key)).labels for e in ws}
    win = window_with_model(qtbot, tiny_model, pets)
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.install(Predictor(JitteryNet(net), meta, "cpu", fuse_bn=False), tiny_model)
    win.predictions.cache.clear()

    painted: list[tuple[str, float]] = []  # (image on screen, agreement with its prediction)
    set_prediction = win.canvas.set_prediction

    def spy(labels, uncertainty, scheme):
        key = win.session.current_key
        painted.append((key, _agreement(labels, expected[key])))
        return set_prediction(labels, uncertainty, scheme)

    win.canvas.set_prediction = spy
    keys = list(expected)
    rng = random.Random(1)
    for switch in range(300):
        win.file_dock.select_key(rng.choice(keys))
        qtbot.wait(rng.choice([0, 0, 1, 2, 5]))
        if switch % 60 == 59:
            win.predictions.cache.clear()  # keep the worker busy with fresh predictions
            wrong = [p for p in painted if p[1] < AGREEMENT]
            assert not wrong, f"painted on the wrong image during the run: {wrong[:3]}"
    current = win.session.current_key
    qtbot.waitUntil(lambda: win.prediction.shown_key == current, timeout=TIMEOUT_MS)
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    assert len(painted) > 50  # the check above saw many paints, not a handful
    wrong = [p for p in painted if p[1] < AGREEMENT]
    assert not wrong, f"painted on the wrong image: {wrong[:3]}"
    assert painted[-1][0] == current
    assert _agreement(win.canvas.prediction_layer.mask, expected[current]) >= AGREEMENT
    np.testing.assert_array_equal(win.session.document.mask,  # auto-accepted: the same labels
                                  win.canvas.prediction_layer.mask)
    win.close()


@pytest.mark.reliability("models", "window model predicts 5 classes, the folder is a trimap")
def test_a_model_of_another_scheme_is_explained_and_never_replaces_a_mask(qtbot, tiny_pets,
                                                                         tmp_path):
    path, _ = make_model_of_scheme(tmp_path / "five.safetensors", multiclass_scheme(5))
    win = window_with_model(qtbot, path, tiny_pets)
    messages: list[str] = []
    win.prediction.message.connect(messages.append)
    key = image_key(4)  # unlabeled: auto-accept would take the prediction if it could
    with qtbot.waitSignal(win.prediction.prediction_shown, timeout=TIMEOUT_MS,
                          check_params_cb=lambda k: k == key):
        win.file_dock.select_key(key)
    document = win.session.document
    empty = np.full(document.shape, erase_value(document.scheme))
    np.testing.assert_array_equal(document.mask, empty)
    assert not document.dirty
    explained = [m for m in messages if "Cannot accept the prediction" in m]
    assert explained and "multiclass masks (5 classes)" in explained[0]
    assert "this folder's masks are trimap (3 classes)" in explained[0]
    qtbot.keyClick(win, Qt.Key.Key_Return)  # asking explicitly gets the same answer
    assert "Cannot accept the prediction" in messages[-1]
    np.testing.assert_array_equal(document.mask, empty)
    win.tools.set_size(1)  # editing still works
    drag(qtbot, win.canvas, [(2.5, 2.5), (2.5, 2.5)])
    assert document.mask[2, 2] != empty[2, 2]
    win.close()
