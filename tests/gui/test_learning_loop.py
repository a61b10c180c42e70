"""Training > Learn as I Correct in the real window, with a tiny model and tiny rounds: rounds
run on the worker thread, the gate keeps a worse version as a candidate the user can pick, a
promotion re-predicts only uncorrected images, the curve gets a point per correction and
survives a restart, and quitting during a round loses no correction."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    disc_pair,
    image_key,
    make_pets,
    tiny_model,
)
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.learning_record import load_record, record_path
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings
from unet_desktop.ml.loop.promotion_gate import PromotionGate
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import GateReport

FAST = LoopSettings(epochs=1, size=32, batch_size=4)
CORRECTED = [image_key(i) for i in range(4)]
UNCORRECTED = [image_key(i) for i in range(4, 7)]


@pytest.fixture
def pets(tmp_path):
    return make_pets(tmp_path / "pets", n_images=7, n_labelled=4)


def new_window(qtbot, pets, model):
    w = open_window(qtbot, model_path=model)
    qtbot.waitUntil(lambda: w.models.active is not None, timeout=TIMEOUT_MS)
    w.learning.settings = FAST
    assert w.open_folder(pets)
    return w


@pytest.fixture
def win(qtbot, pets, tiny_model):
    w = new_window(qtbot, pets, tiny_model)
    yield w
    w.close()


def turn_on(qtbot, win, k: int | None = None):
    """Learn as I Correct on (the folder's 4 corrected images are noted: a first round)."""
    if k is not None:
        win.learning.panel.k_spin.setValue(k)
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        win.model_actions.learn_as_i_correct.trigger()
    return done.args[0]


def correct(qtbot, win, i: int, save: bool = True) -> None:
    """Select image i, wait for its prediction, paint it into the true mask (and save)."""
    key = image_key(i)
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    document = win.session.document
    win.session.apply(delta_from_masks(document.mask, disc_pair(i)[1], "correct"))
    assert win.session.has_user_edits()
    if save:
        assert win.session.save("save")


def gate_scores(monkeypatch, in_use: str, candidate_better: bool) -> None:
    """The validation scores: the model in use 0.7, any new version 0.9 or 0.5."""

    def fake(self, model_path, version, keys, cancel):
        yield GateReport(len(keys), len(keys))
        score = 0.7 if version == in_use else (0.9 if candidate_better else 0.5)
        return {"score": score, "dice": score, "miou": score}

    monkeypatch.setattr(PromotionGate, "validation_score", fake)


def test_the_toggle_starts_rounds_on_the_worker_thread(qtbot, win, pets, monkeypatch):
    threads = []
    run_round = LearningLoop.run_round

    def spy(self, plan, cancel=None):
        threads.append(threading.current_thread())
        yield from run_round(self, plan, cancel)

    monkeypatch.setattr(LearningLoop, "run_round", spy)
    assert not win.model_actions.learn_as_i_correct.isChecked()
    assert not win.learning.panel.isVisibleTo(win.training_dock)  # never on in this folder
    first = turn_on(qtbot, win)
    assert first.train_images == tuple(CORRECTED)  # what was corrected before counts
    assert win.learning.panel.isVisibleTo(win.training_dock) and win.training_dock.isVisible()
    assert load_record(record_path(pets)).enabled  # remembered for the folder
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        correct(qtbot, win, 4)
    assert done.args[0].validation_images == (image_key(4),)  # the 5th corrected, k = 5
    assert len(threads) == 2
    assert all(t is not threading.main_thread() for t in threads)


def test_a_worse_round_is_kept_as_a_candidate_and_can_be_picked(qtbot, win, monkeypatch):
    in_use = win.models.active_version
    gate_scores(monkeypatch, in_use, candidate_better=False)
    result = turn_on(qtbot, win, k=2)  # images 1 and 3 judge
    assert result.gate == "validation" and not result.promoted
    assert result.validation_images == (image_key(1), image_key(3))
    assert win.models.active_version == in_use
    task = win.session.workspace.task
    candidate = next(v for v in task.versions if v.version == result.version)
    assert "candidate" in candidate.note and task.model != candidate.file
    assert candidate.metrics["val_score"] == 0.5
    assert "candidate" in win.learning.panel.status_label.text()

    dialog = win.task_commands.show_versions()
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        dialog.use_row(dialog._files.index(candidate.file))
    assert win.models.active_version == result.version


def test_a_promoted_round_refreshes_the_uncorrected_images_only(qtbot, win, pets, monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    ws = win.session.workspace
    before = {key: ws[key].mask_path.read_bytes() for key in CORRECTED}
    result = turn_on(qtbot, win, k=2)
    assert result.promoted
    # the worker swaps the model in before the window hears of it: wait for the refresh itself
    qtbot.waitUntil(lambda: bool(win.learning.refreshed), timeout=TIMEOUT_MS)
    assert win.models.active_version == result.version
    assert win.session.current_key == CORRECTED[0]
    assert sorted(win.learning.refreshed) == UNCORRECTED
    cache = win.predictions.cache
    qtbot.waitUntil(lambda: all((k, result.version) in cache for k in UNCORRECTED),
                    timeout=TIMEOUT_MS)
    reopened = Workspace.open(pets)
    for key in CORRECTED:
        assert reopened[key].mask_path.read_bytes() == before[key]
        assert reopened[key].state is ImageState.CORRECTED
    task = ws.task
    assert task.version_of(task.model).version == result.version
    assert "Promoted" in task.version_of(task.model).note
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        correct(qtbot, win, 4)
    assert read_meta(done.args[0].model_path).parent_version == result.version  # from it on


def test_the_curve_gets_a_point_per_correction_and_survives_a_restart(qtbot, win, pets,
                                                                      tiny_model):
    turn_on(qtbot, win)
    for n, i in enumerate((4, 5), start=1):
        with qtbot.waitSignal(win.learning.point_added, timeout=TIMEOUT_MS) as added:
            correct(qtbot, win, i)
        point = added.args[0]
        assert (point.order, point.image, point.metric) == (n, image_key(i), "dice")
        assert 0 <= point.score <= 1 and 0 < point.changed_fraction <= 1
    assert len(win.learning.panel.points.points()) == 2
    qtbot.waitUntil(lambda: not win.learning.running, timeout=TIMEOUT_MS)
    win.close()

    again = new_window(qtbot, pets, tiny_model)
    try:
        assert again.model_actions.learn_as_i_correct.isChecked()
        assert again.training_dock.isVisible()
        points = again.learning.loop.record.points
        assert [p.image for p in points] == [image_key(4), image_key(5)]
        assert len(again.learning.panel.points.points()) == 2
    finally:
        again.close()


def test_quitting_during_a_round_loses_no_correction(qtbot, win, pets):
    win.learning.settings = LoopSettings(epochs=100_000, size=32, batch_size=4)  # runs on
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: win.learning.running and win.learning.round_job.steps > 3,
                    timeout=TIMEOUT_MS)
    job = win.learning.round_job
    correct(qtbot, win, 5, save=False)  # an unsaved correction
    truth = disc_pair(5)[1]
    win.close()
    assert job.token.cancelled
    ws = Workspace.open(pets)
    assert ws[image_key(5)].state is ImageState.CORRECTED
    np.testing.assert_array_equal(read_mask(ws[image_key(5)].mask_path, ws.scheme), truth)
    assert image_key(5) in load_record(record_path(pets)).corrected
    models = pets / ".unet-desktop" / "models"
    assert not list(models.glob("*.safetensors")) and not list(models.glob("*.ckpt"))


def test_a_folder_without_a_task_gets_one_from_the_model_in_use(qtbot, tmp_path, tiny_model):
    """Binary car-like masks, a trimap model: the task starts from the model, classes mapped."""
    root = tmp_path / "cars"
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i in range(3):
        image, trimap = disc_pair(i)
        Image.fromarray(image).save(root / "images" / f"car_{i}.png")
        Image.fromarray(np.where(trimap == 1, 255, 0).astype(np.uint8)).save(
            root / "masks" / f"car_{i}.png")
    w = new_window(qtbot, root, tiny_model)
    try:
        assert w.session.workspace.task is None and w.session.workspace.scheme.kind == "binary"
        result = turn_on(qtbot, w)
        task = w.session.workspace.task
        assert task is not None and Path(task.start_from) == tiny_model
        assert read_meta(result.model_path).scheme.kind == "binary"
        assert task.version_of(task.model).version == result.version  # promoted
    finally:
        w.close()
