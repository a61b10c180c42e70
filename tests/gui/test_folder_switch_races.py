"""A folder switch while work of the old folder is still running: what that work finishes
lands in the old folder, never in the one opened since (a prediction of an image of the same
name, a model load asked for there: Model > Open, a promoted learning round), and a batch run
writing through the old folder's workspace stops (it wrote its states over the folder opened
again)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading
import time

import numpy as np
from PIL import Image
from PySide6.QtCore import QTimer

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    disc_pair,
    image_key,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import gate_scores, new_window
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task, stored_reference
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.batch_workspace import WorkspaceOutput


def test_the_old_folders_prediction_never_answers_for_the_new_folders_image(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "a", n_images=3, n_labelled=0)
    b = make_pets(tmp_path / "b", n_images=3, n_labelled=0)
    for path in (b / "images").iterdir():  # the same names, other pixels
        Image.fromarray(255 - np.asarray(Image.open(path))[::-1, ::-1]).save(path)
    gate, entered = threading.Event(), threading.Event()
    load_raw = Workspace.load_raw

    def held_in_a(self, key):  # a's first image is being predicted as b opens
        if self.root.name == "a" and key == image_key(0) and not gate.is_set():
            entered.set()
            gate.wait(10)
        return load_raw(self, key)

    monkeypatch.setattr(Workspace, "load_raw", held_in_a)
    win = open_window(qtbot, model_path=tiny_model)
    try:
        qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
        assert win.open_folder(a) and entered.wait(10)
        assert win.open_folder(b)
        gate.set()
        qtbot.waitUntil(lambda: win.prediction.shown_key == image_key(0), timeout=TIMEOUT_MS)
        shown = win.prediction.shown.prediction
        own = win.models.active.predictor.predict(np.asarray(Image.open(b / image_key(0))))
        assert np.array_equal(shown.labels, own.labels)
        assert np.allclose(shown.uncertainty, own.uncertainty, atol=1e-4)  # b's, not a's
    finally:
        win.close()


def slow_loads(monkeypatch, slow) -> None:
    from unet_desktop.ml import api
    load_model = api.load_model

    def slow_load(path=None, *args, **kwargs):
        if path is not None and slow(str(path)):
            time.sleep(1.0)  # a real model file takes a moment to load
        return load_model(path, *args, **kwargs)

    monkeypatch.setattr(api, "load_model", slow_load)


def two_tasks(tmp_path, model):
    """Folders a and b whose tasks both use ``model`` (opening b loads nothing)."""
    a = make_pets(tmp_path / "a", n_images=7, n_labelled=4)
    b = make_pets(tmp_path / "b", n_images=7, n_labelled=4)
    for root in (a, b):
        save_task(root, Task(root.name, trimap_scheme(), model=stored_reference(root, model)))
    return a, b


def settle(qtbot, win):
    for _ in range(3):
        qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
        qtbot.wait(300)


def test_a_model_opened_in_one_folder_is_not_put_into_use_in_the_next(qtbot, tmp_path,
                                                                     tiny_model, monkeypatch):
    a, b = two_tasks(tmp_path, tiny_model)
    other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
    slow_loads(monkeypatch, lambda p: p == str(other))
    win = new_window(qtbot, a, tiny_model)
    try:
        win.model_commands.open_model(other)  # Model > Open Model in a...
        assert win.open_folder(b)  # ...and File > Open Folder while it loads
        settle(qtbot, win)
        assert model_file(b, load_task(b).model) == tiny_model  # b's task keeps its model
        assert win.models.active.path == tiny_model
    finally:
        win.close()


def test_a_round_of_one_folder_promoted_as_the_next_opens_stays_that_folders(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a, b = two_tasks(tmp_path, tiny_model)
    slow_loads(monkeypatch, lambda p: "/a/.unet-desktop/models/" in p.replace("\\", "/"))
    win = new_window(qtbot, a, tiny_model)
    try:
        gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
        win.learning.round_finished.connect(  # b opened as a's round is promoted
            lambda _r: QTimer.singleShot(0, lambda: win.open_folder(b))
            if win.session.workspace.root.name == "a" else None)
        with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
            win.model_actions.learn_as_i_correct.trigger()
        result = done.args[0]
        qtbot.waitUntil(lambda: win.session.workspace.root.name == "b", timeout=TIMEOUT_MS)
        settle(qtbot, win)
        assert result.promoted
        assert model_file(b, load_task(b).model) == tiny_model
        assert win.models.active.path == tiny_model
        assert model_file(a, load_task(a).model) == result.model_path  # a's, recorded there
        assert win.open_folder(a)  # back in a: its round's version predicts
        qtbot.waitUntil(lambda: win.models.active.path == result.model_path,
                        timeout=TIMEOUT_MS)
    finally:
        win.close()


def batch_writes_held_at(monkeypatch, key: str) -> tuple[threading.Event, threading.Event]:
    """A batch run waits before writing the batch holding ``key`` until the first event is
    set; the second tells that it waits there."""
    gate, entered = threading.Event(), threading.Event()
    write = WorkspaceOutput.write

    def held(self, items):
        if any(job.key == key for job, _ in items) and not gate.is_set():
            entered.set()
            gate.wait(20)
        return write(self, items)

    monkeypatch.setattr(WorkspaceOutput, "write", held)
    return gate, entered


def start_a_batch(qtbot, win, open_folder, batch_folder) -> tuple[list, list]:
    """``open_folder`` open in the window, File > Batch Predict of ``batch_folder`` in place
    started; returns the lists its summaries and the window's messages are put in."""
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(open_folder)
    dialog = win.training_commands.batch_predict()
    dialog.folder_edit.setText(str(batch_folder))
    finished, said = [], []
    dialog.run_finished.connect(finished.append)
    win.training_commands.message.connect(said.append)
    dialog.start()
    return finished, said


def test_a_batch_run_of_a_folder_left_never_writes_over_it_when_opened_again(
        qtbot, tmp_path, tiny_model, monkeypatch):
    """Batch predict of a; b opened and a again while a batch of masks is being written; the
    user corrects an image the run had predicted: it stays corrected (the run's manifest
    write made it 'predicted' again, out of the training images)."""
    a = make_pets(tmp_path / "a", n_images=6, n_labelled=0)
    b = make_pets(tmp_path / "b", n_images=3, n_labelled=0)
    gate, entered = batch_writes_held_at(monkeypatch, image_key(3))
    win = open_window(qtbot, model_path=tiny_model)
    try:
        finished, said = start_a_batch(qtbot, win, a, a)
        assert entered.wait(30)  # img_01 and img_02 written as predicted
        assert win.open_folder(b)
        qtbot.waitUntil(lambda: any(m.startswith("Batch predict of a stopped") for m in said),
                        timeout=TIMEOUT_MS)
        assert win.open_folder(a)
        win.file_dock.select_key(image_key(1))
        document = win.session.document
        win.session.apply(delta_from_masks(document.mask, disc_pair(1)[1], "correct"))
        assert win.session.save("save")
        gate.set()
        qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
        assert finished[0].cancelled
        again = Workspace.open(a)
        assert again[image_key(1)].state is ImageState.CORRECTED
        np.testing.assert_array_equal(again.load_mask(image_key(1)), disc_pair(1)[1])
        assert image_key(1) in [e.key for e in again.labelled()]
    finally:
        gate.set()
        win.close()


def test_a_batch_run_of_another_folder_stops_when_the_window_opens_that_folder(
        qtbot, tmp_path, tiny_model, monkeypatch):
    """Batch predict of b (not open) in place, then File > Open Folder b: the run and the
    window would be two writers of b's manifest; the run stops."""
    a = make_pets(tmp_path / "a", n_images=3, n_labelled=0)
    b = make_pets(tmp_path / "b", n_images=6, n_labelled=0)
    gate, entered = batch_writes_held_at(monkeypatch, image_key(3))
    win = open_window(qtbot, model_path=tiny_model)
    try:
        finished, said = start_a_batch(qtbot, win, a, b)
        assert entered.wait(30)
        assert win.open_folder(b)
        qtbot.waitUntil(lambda: any(m.startswith("Batch predict of b stopped") for m in said),
                        timeout=TIMEOUT_MS)
        gate.set()
        qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
        assert finished[0].cancelled
    finally:
        gate.set()
        win.close()
