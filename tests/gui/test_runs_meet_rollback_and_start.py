"""A run that ends after the user chose otherwise: Roll Back to the model the task started from
(one that cannot label the task's classes) while a round or a fine-tune trains, Start in the
Fine-tune dialog as a round ends, and the training dock's round line after leaving a folder and
coming back."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import torch

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import (  # noqa: F401 - pets and win are fixtures used by name
    correct,
    gate_scores,
    pets,
    win,
)
from tests.gui.test_models_meet import Hold, hold_fine_tunes, messages_of, start_fine_tune
from unet_desktop.core.folder.learning_record import LearningRecord, record_path, save_record
from unet_desktop.core.folder.task import load_task
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model


def binary_model(path):
    """A model of other classes than the pets' trimap (as the shipped model is for a new task)."""
    torch.manual_seed(1)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="start")
    save_model(path, build_model(meta.arch), meta)
    return path


def first_version_from(qtbot, win, start):
    """The task's first version, from ``start`` (which cannot label the task), put into use by
    a first round; ``start`` is then the previous model, where Roll Back goes."""
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.load(start)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as first:
        win.model_actions.learn_as_i_correct.trigger()
    assert first.args[0].promoted
    qtbot.waitUntil(lambda: win.models.active.path == first.args[0].model_path,
                    timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.previous.path == start
    return first.args[0].model_path


def roll_back_to(qtbot, win, start, pets):
    assert win.models.rollback()
    qtbot.waitUntil(lambda: win.models.active.path == start, timeout=TIMEOUT_MS)
    assert load_task(pets).model is None  # no version of the task is in use
    dialog = win.task_commands.show_versions()
    marks = [dialog.table.item(r, c).text() for r in range(dialog.table.rowCount())
             for c in range(dialog.table.columnCount()) if dialog.table.item(r, c) is not None]
    assert "●" not in marks
    dialog.close()


def test_a_round_ending_after_roll_back_to_the_start_model_is_only_a_candidate(
        qtbot, win, pets, tmp_path, monkeypatch):
    start = binary_model(tmp_path / "start.safetensors")
    first_version_from(qtbot, win, start)
    hold = Hold(monkeypatch)
    correct(qtbot, win, 4)
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    roll_back_to(qtbot, win, start, pets)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        hold.release()
    result = done.args[0]
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert not result.promoted and "start was put into use while it trained" in result.reason
    assert win.models.active.path == start
    task = load_task(pets)
    assert task.model is None
    kept = next(v for v in task.versions if v.version == result.version)
    assert "candidate" in kept.note and "start" in kept.note


def test_a_fine_tune_ending_after_roll_back_to_the_start_model_is_only_a_candidate(
        qtbot, win, pets, tmp_path, monkeypatch):
    start = binary_model(tmp_path / "start.safetensors")
    first_version_from(qtbot, win, start)
    win.model_actions.learn_as_i_correct.trigger()  # off: only the fine-tune trains
    said = messages_of(win.training_commands)
    go = hold_fine_tunes(monkeypatch)
    plan = start_fine_tune(win)
    roll_back_to(qtbot, win, start, pets)
    with qtbot.waitSignal(win.training_dock.training_finished, timeout=60_000):
        go.set()
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.active.path == start
    task = load_task(pets)
    assert task.model is None
    kept = next(v for v in task.versions if v.file.endswith(plan.out.name))
    assert "candidate" in kept.note
    assert any(plan.out.name in m and "start was put into use" in m for m in said), said


def test_start_in_the_fine_tune_dialog_as_a_round_ends_keeps_nothing_of_the_round(
        qtbot, win, pets, monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    hold = Hold(monkeypatch, after=True)  # the round's result is made, its end not delivered
    win.learning.panel.k_spin.setValue(2)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.results) == 1, timeout=60_000)
    assert hold.results[0].promoted  # the gate liked it
    said = messages_of(win.training_commands)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        plan = start_fine_tune(win)
    assert any("was cancelled" in m and hold.plans[0].name in m for m in said), said
    assert done.args[0].gate == "cancelled" and not done.args[0].promoted
    qtbot.waitUntil(lambda: not win.training_dock.running, timeout=60_000)
    qtbot.waitUntil(lambda: win.models.active.path == plan.out, timeout=TIMEOUT_MS)
    task = load_task(pets)
    assert task.model.endswith(plan.out.name)  # the user's fine-tune is in use
    assert all(v.version != hold.results[0].version for v in task.versions)
    assert not hold.plans[0].out.exists()
    # its corrections go into the next round, after this fine-tune (the round starts after a
    # pause, so the dock may show the fine-tune's verdict or the new round: wait for the round)
    qtbot.waitUntil(lambda: len(hold.plans) == 2, timeout=60_000)


def test_the_dock_no_longer_says_the_folder_is_not_open_once_it_is_again(
        qtbot, win, pets, tmp_path, monkeypatch):
    other = make_pets(tmp_path / "other", n_images=3, n_labelled=0)
    hold = Hold(monkeypatch)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    assert win.open_folder(other)  # the round of pets is cancelled and ends
    qtbot.waitUntil(lambda: "no longer open" in win.training_dock.status_label.text(),
                    timeout=60_000)
    save_record(record_path(pets), LearningRecord(enabled=False))  # no round starts on return
    assert win.open_folder(pets)
    qtbot.wait(200)
    assert not win.learning.running
    text = win.training_dock.status_label.text()
    assert "no longer open" not in text
    assert text == win.learning.panel.status_label.text()
