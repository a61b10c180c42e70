"""A manual fine-tune beside the features it meets: a folder without a task, a folder switch,
Learn as I Correct, a read-only window, quitting, the dialog left open while the model in use
changes, Mask > Classes, a batch predict stopped by a folder switch."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import json
import os
import socket

import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import gate_scores, new_window
from tests.gui.test_models_meet import QUICK, Hold, hold_fine_tunes, start_fine_tune
from unet_desktop.core.folder.folder_lock import lock_path
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme


def test_a_fine_tune_of_a_folder_without_a_task_never_becomes_another_folders_model(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "a", n_images=7, n_labelled=4)
    b = make_pets(tmp_path / "b", n_images=7, n_labelled=4)
    make_model_file(b / ".unet-desktop" / "models" / "b-v1.safetensors", seed=5, name="b")
    save_task(b, Task("b", trimap_scheme(), model="models/b-v1.safetensors"))
    win = new_window(qtbot, a, tiny_model)
    assert win.session.workspace.task is None
    go = hold_fine_tunes(monkeypatch)
    start_fine_tune(win)
    job = win.training_dock.job
    assert load_task(a) is not None  # the fine-tune made a's task: it is a run of a's models
    assert win.open_folder(b)
    go.set()
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: bool(load_task(a).versions), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert load_task(b).model == "models/b-v1.safetensors"
    assert win.models.active.path.name == "b-v1.safetensors"
    assert [v.file for v in load_task(a).versions] == ["models/a-v1.safetensors"]  # recorded where it trained
    win.close()


def test_learn_as_i_correct_waits_for_a_fine_tune_of_a_folder_without_a_task(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "a", n_images=7, n_labelled=4)
    win = new_window(qtbot, a, tiny_model)
    go = hold_fine_tunes(monkeypatch)
    start_fine_tune(win)
    job = win.training_dock.job
    qtbot.waitUntil(lambda: job.started, timeout=TIMEOUT_MS)
    win.model_actions.learn_as_i_correct.trigger()
    assert win.learning.start_round() is None
    assert not win.learning.running  # one run at a time: the round waits
    go.set()
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    win.model_actions.learn_as_i_correct.trigger()  # off
    win.close()


def hold_folder_in_another_process(folder) -> int:
    other = os.getppid()  # a live process of this host that is not this one
    lock_path(folder).parent.mkdir(parents=True, exist_ok=True)
    lock_path(folder).write_text(json.dumps({"host": socket.gethostname(), "pid": other,
                                             "since": "2026-12-06T12:00:00Z"}))
    return other


def test_a_read_only_window_refuses_to_fine_tune_and_says_who_writes_the_folder(
        qtbot, tmp_path, tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=7, n_labelled=4)
    save_task(pets, Task("pets", trimap_scheme(), model=str(tiny_model)))
    other = hold_folder_in_another_process(pets)
    win = new_window(qtbot, pets, tiny_model)
    assert win.session.workspace.read_only
    said: list[str] = []
    win.training_commands.message.connect(said.append)
    assert win.training_commands.finetune() is None
    assert win.training_dock.job is None
    assert "read-only" in said[-1] and f"process {other}" in said[-1]
    assert not list((pets / ".unet-desktop" / "models").glob("*.reserved"))  # nothing planned
    win.close()


def test_the_fine_tune_dialog_left_open_while_a_round_is_promoted_starts_from_that_round(
        qtbot, tmp_path, tiny_model, monkeypatch):
    pets = make_pets(tmp_path / "pets", n_images=7, n_labelled=4)
    win = new_window(qtbot, pets, tiny_model)
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    hold = Hold(monkeypatch)
    said: list[str] = []
    win.training_commands.message.connect(said.append)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    win.training_commands.config_overrides = QUICK
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        hold.release()
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    round_version = done.args[0].version
    assert win.models.active_version == round_version  # promoted while the dialog was open
    win.model_actions.learn_as_i_correct.trigger()  # off: no next round
    dialog.accept()
    job = win.training_dock.job
    assert "the model in use changed while the dialog was open" in said[-1]
    qtbot.waitUntil(lambda: job.finished, timeout=60_000)
    qtbot.waitUntil(lambda: load_task(pets).model != f"models/{hold.plans[0].name}.safetensors",
                    timeout=TIMEOUT_MS)
    task = load_task(pets)
    fine_tune = task.version_of(task.model)
    assert fine_tune.parent == round_version and "candidate" not in fine_tune.note
    win.close()


@pytest.mark.parametrize("again", [False, True], ids=["another folder", "the same folder"])
def test_a_batch_predict_stopped_by_opening_a_folder_says_stopped_and_fails_no_image(
        qtbot, tmp_path, tiny_model, again):
    pets = make_pets(tmp_path / "pets", n_images=40, n_labelled=3)
    other = pets if again else make_pets(tmp_path / "other", n_images=3, n_labelled=1)
    win = new_window(qtbot, pets, tiny_model)
    said: list[str] = []
    win.training_commands.message.connect(said.append)
    dialog = win.training_commands.batch_predict()
    job = dialog.start()
    qtbot.waitUntil(lambda: dialog.summary.done >= 5, timeout=60_000)
    assert win.open_folder(other)
    assert job.finished  # stopped before the folder it wrote was closed
    qtbot.waitUntil(lambda: len(said) >= 2, timeout=TIMEOUT_MS)
    assert said[0].startswith("Cancelled") and " 0 failed" in said[0], said
    why = "the folder was opened again" if again else "another folder was opened"
    assert said[1].startswith(f"Batch predict of pets stopped: {why}")
    win.close()


def test_quitting_during_a_fine_tune_records_its_best_model_so_far_in_its_task(
        qtbot, tmp_path, tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=7, n_labelled=4)
    win = new_window(qtbot, pets, tiny_model)
    plan = start_fine_tune(win, epochs=500)
    qtbot.waitUntil(lambda: len(win.training_dock._epochs) >= 2, timeout=120_000)
    win.close()
    task = load_task(pets)
    assert [v.file for v in task.versions] == [f"models/{plan.out.name}"]
    assert task.model == f"models/{plan.out.name}"  # its parent was still in use
    assert not list(plan.out.parent.glob("*.reserved"))


def test_opening_another_folders_version_puts_this_tasks_copy_into_use(
        qtbot, tmp_path, tiny_model):
    a = make_pets(tmp_path / "a", n_images=3, n_labelled=2)
    b = make_pets(tmp_path / "b", n_images=3, n_labelled=2)
    theirs = make_model_file(a / ".unet-desktop" / "models" / "a-v1.safetensors", seed=5,
                             name="a")
    save_task(a, Task("a", trimap_scheme(), model="models/a-v1.safetensors"))
    save_task(b, Task("b", trimap_scheme(), model=str(tiny_model)))
    win = new_window(qtbot, b, tiny_model)
    said: list[str] = []
    win.task_commands.message.connect(said.append)
    win.models.load(theirs)  # Model > Open
    ours = b / ".unet-desktop" / "models" / "b-v1.safetensors"
    qtbot.waitUntil(lambda: win.models.active.path == ours, timeout=TIMEOUT_MS)
    assert load_task(b).model == "models/b-v1.safetensors"
    assert any("this task keeps a copy, b-v1.safetensors" in m for m in said), said
    win.close()


def test_the_fine_tune_dialog_never_names_an_image_the_run_cannot_read(
        qtbot, tmp_path, tiny_model):
    from unet_desktop.gui.training.finetune_dialog import FinetuneDialog

    pets = make_pets(tmp_path / "pets", n_images=12, n_labelled=12)
    win = new_window(qtbot, pets, tiny_model)
    ws = win.session.workspace

    def dialog_text():
        d = FinetuneDialog(win.models.active, ws, tmp_path / "models", parent=win)
        d.val_spin.setValue(0.25)
        text = d.data_label.text(), d.validation_label.text()
        d.deleteLater()
        return text

    _, validation = dialog_text()
    victim = validation.split("Validates on ")[1].split(",")[0]  # the first image it names
    path = pets / "images" / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    data, validation = dialog_text()
    assert "12 corrected or verified image(s) to learn from, of which 1 cannot be read" in data
    assert victim in data and victim not in validation
    assert "(3 of 11)" in validation  # the engine splits the 11 images it reads
    win.close()


def test_opening_fine_tune_in_a_folder_with_nothing_to_learn_from_makes_no_task(
        qtbot, tmp_path, tiny_model):
    bare = make_pets(tmp_path / "bare", n_images=3, n_labelled=0)
    win = new_window(qtbot, bare, tiny_model)
    dialog = win.training_commands.finetune()
    assert dialog is not None and not dialog.buttons.button(
        dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.reject()
    assert load_task(bare) is None
    win.close()
