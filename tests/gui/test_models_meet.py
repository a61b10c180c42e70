"""Features that train or swap a folder's model, run beside each other in the real window: a
manual fine-tune during a loop round, a model switch during a round, a folder switch during a
fine-tune or a round, File > New Task on an existing task, turning the loop off as a round ends,
the frozen validation set and the Fine-tune dialog's start model."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading
import time
from pathlib import Path

import torch

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_model_file,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import (  # noqa: F401 - pets and win are fixtures used by name
    correct,
    gate_scores,
    new_window,
    pets,
    win,
)
from unet_desktop.core.folder.learning_record import LearningRecord, record_path, save_record
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.core.progress import Cancelled
from unet_desktop.ml.loop.learning_loop import LearningLoop
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, read_meta, save_model
from unet_desktop.ml.reports import RoundResult

QUICK = {"batch_size": 2, "patience": None}


class Hold:
    """Rounds wait (stepping, so the worker goes on) until :meth:`release` or until they are
    cancelled (seen at the next step, as a round does); ``after``: once the round's result
    was yielded, else before it trains."""

    def __init__(self, monkeypatch, after: bool = False) -> None:
        self.plans, self.results, self._go = [], [], threading.Event()
        run_round = LearningLoop.run_round

        def held(loop, plan, cancel=None):
            self.plans.append(plan)
            if not after:
                yield from self._wait(cancel)
            for report in run_round(loop, plan, cancel):
                if isinstance(report, RoundResult):
                    self.results.append(report)
                yield report
            if after:
                yield from self._wait(cancel)

        monkeypatch.setattr(LearningLoop, "run_round", held)

    def _wait(self, cancel):
        while not self._go.is_set():
            if cancel is not None and cancel.cancelled:
                raise Cancelled
            time.sleep(0.01)
            yield None

    def release(self) -> None:
        self._go.set()


def hold_fine_tunes(monkeypatch) -> threading.Event:
    import unet_desktop.gui.training.training_dock as dock

    go, job = threading.Event(), dock.training_job

    def held(workspace, config, notify):
        run = job(workspace, config, notify)

        def wait_then_run(token):
            while not go.is_set():
                time.sleep(0.01)
                yield None
            yield from run(token)

        return wait_then_run

    monkeypatch.setattr(dock, "training_job", held)
    return go


def start_fine_tune(win, epochs: int = 1):
    win.training_commands.config_overrides = QUICK
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    dialog.epochs_spin.setValue(epochs)
    dialog.size_spin.setValue(32)
    plan = dialog.plan
    dialog.accept()
    return plan


def messages_of(*controllers) -> list[str]:
    said: list[str] = []
    for c in controllers:
        c.message.connect(said.append)
    return said


def test_a_manual_fine_tune_never_takes_a_rounds_version_file_and_says_it_cancels_it(
        qtbot, win, pets, monkeypatch):
    hold = Hold(monkeypatch)
    said = messages_of(win.training_commands, win.learning)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    correct(qtbot, win, 4, save=False)  # Fine-tune saves it first: that asks for a round
    with qtbot.waitSignal(win.training_dock.training_finished, timeout=60_000):
        plan = start_fine_tune(win)
        assert plan.out not in {p.out for p in hold.plans}
        hold.release()
    assert plan.out.is_file()  # a cancelled round never deletes the manual run's model
    assert any("cancel" in m.casefold() and hold.plans[0].name in m for m in said), said


def test_a_round_never_replaces_a_model_put_into_use_while_it_ran(qtbot, win, pets, tmp_path,
                                                                 monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    hold = Hold(monkeypatch)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.load(other)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        hold.release()
    result = done.args[0]
    qtbot.wait(200)
    assert win.models.active.path == other
    task = load_task(pets)
    assert model_file(pets, task.model).resolve() == other.resolve()
    kept = next(v for v in task.versions if v.version == result.version)
    assert "candidate" in kept.note


def test_a_round_ending_while_the_users_model_loads_leaves_it_the_users(qtbot, win, pets,
                                                                      tmp_path, monkeypatch):
    """Model > Open Model during the round's last step: the task learns of the user's choice
    only once the load finished, so the round, ending in between, must not be promoted."""
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    last_step, go = threading.Event(), threading.Event()
    run_round = LearningLoop.run_round

    def held(loop, plan, cancel=None):  # the worker thread waits in the round's last step
        yield from run_round(loop, plan, cancel)
        last_step.set()
        go.wait(10)

    monkeypatch.setattr(LearningLoop, "run_round", held)
    other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
    from unet_desktop.ml import api
    load_model = api.load_model

    def slow_load(path=None, *args, **kwargs):
        if path is not None and Path(path) == other:
            time.sleep(1.0)  # a real model file takes a moment to load
        return load_model(path, *args, **kwargs)

    monkeypatch.setattr(api, "load_model", slow_load)
    win.model_actions.learn_as_i_correct.trigger()
    assert last_step.wait(60)
    win.model_commands.open_model(other)  # queued behind the round on the worker
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        go.set()
    result = done.args[0]
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.active.path == other
    task = load_task(pets)
    assert model_file(pets, task.model).resolve() == other.resolve()
    kept = next(v for v in task.versions if v.version == result.version)
    assert "candidate" in kept.note


def test_a_fine_tune_finishing_after_another_folder_opened_goes_to_its_own_folder(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "a", n_images=7, n_labelled=4)
    b = make_pets(tmp_path / "b", n_images=7, n_labelled=4)
    save_task(b, Task("b", trimap_scheme()))
    win = new_window(qtbot, a, tiny_model)
    assert win.task_commands.ensure_task() is not None
    go = hold_fine_tunes(monkeypatch)
    plan = start_fine_tune(win)
    assert win.open_folder(b)
    with qtbot.waitSignal(win.training_dock.training_finished, timeout=60_000):
        go.set()
    qtbot.wait(300)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.active.path == tiny_model  # folder b's window is untouched
    assert load_task(b).versions == ()
    task_a = load_task(a)
    assert any(v.file.endswith(plan.out.name) for v in task_a.versions)
    assert model_file(a, task_a.model).name == plan.out.name  # its parent was a's in use
    win.close()


def test_new_task_on_an_existing_task_keeps_its_scale_and_start_model(qtbot, win, pets,
                                                                      tmp_path):
    start = make_model_file(tmp_path / "start.safetensors", seed=2, name="start")
    ws = win.session.workspace
    assert win.task_commands.apply_task(Task("pets", ws.scheme, start_from=str(start),
                                             scale="native"))
    dialog = win.task_commands.new_task()
    dialog.accept()
    task = load_task(pets)
    assert task.scale == "native"
    assert task.start_from == str(start)


def trained_on(summary: dict) -> set[str]:
    """Which images a saved model was trained on, from its metadata."""
    if "train_keys" in summary:
        return set(summary["train_keys"])
    return set(summary.get("mask_sha1", {})) - set(summary.get("val_keys", []))


def test_a_manual_fine_tune_never_trains_on_the_loops_validation_images(qtbot, win, pets):
    win.learning.panel.k_spin.setValue(2)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as first:
        win.model_actions.learn_as_i_correct.trigger()
    frozen = set(first.args[0].validation_images)
    assert frozen == {image_key(1), image_key(3)}
    win.model_actions.learn_as_i_correct.trigger()  # off
    with qtbot.waitSignal(win.training_dock.model_trained, timeout=60_000) as trained:
        start_fine_tune(win)
    summary = read_meta(Path(trained.args[0])).data_summary
    assert trained_on(summary) and not trained_on(summary) & frozen


def test_the_fine_tune_dialog_keeps_the_start_models_own_size_and_scale(qtbot, win, pets,
                                                                        tmp_path):
    torch.manual_seed(0)
    native = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                       normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=64,
                       scale="native", version=new_version_id(), name="membranes")
    start = tmp_path / "membranes.safetensors"
    save_model(start, build_model(native.arch), native)
    binary = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                       normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                       version=new_version_id(), name="other-classes")
    other = tmp_path / "binary.safetensors"
    save_model(other, build_model(binary.arch), binary)
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.load(other)  # the model in use cannot label the task: it starts from start
    ws = win.session.workspace
    assert win.task_commands.apply_task(Task("pets", ws.scheme, start_from=str(start)))
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    assert dialog.plan.init == start
    config = dialog.config()
    assert (config.size, config.scale) == (64, "native")
    dialog.reject()


def test_turning_the_loop_off_as_a_round_ends_does_not_promote_it(qtbot, win, monkeypatch):
    in_use = win.models.active_version
    gate_scores(monkeypatch, in_use, candidate_better=True)
    hold = Hold(monkeypatch, after=True)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.results) == 1, timeout=60_000)
    assert hold.results[0].promoted  # the gate liked it
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        win.model_actions.learn_as_i_correct.trigger()  # off
    hold.release()
    qtbot.wait(300)
    assert win.models.active_version == in_use
    root = win.session.workspace.root
    assert model_file(root, load_task(root).model).name != hold.plans[0].out.name


def test_a_round_cancelled_by_opening_another_folder_lets_that_folders_rounds_start(
        qtbot, win, tmp_path, monkeypatch):
    b = make_pets(tmp_path / "b", n_images=7, n_labelled=4)
    save_record(record_path(b), LearningRecord(enabled=True))
    hold = Hold(monkeypatch)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    assert win.open_folder(b)
    hold.release()
    qtbot.waitUntil(lambda: any(b in p.out.parents for p in hold.plans), timeout=30_000)


def test_a_folder_another_process_holds_opens_read_only_with_a_banner_naming_it(
        qtbot, pets, tiny_model):
    import json
    import os
    import socket

    from unet_desktop.core.folder.folder_lock import lock_path

    other = os.getppid()  # a live process of this host that is not this one
    lock_path(pets).parent.mkdir(parents=True, exist_ok=True)
    lock_path(pets).write_text(json.dumps({"host": socket.gethostname(), "pid": other,
                                           "since": "2026-12-06T12:00:00Z"}))
    w = new_window(qtbot, pets, tiny_model)
    assert w.session.workspace.read_only
    banner = w.task_banner
    assert banner.isVisibleTo(w) and f"process {other}" in banner.text()
    assert json.loads(lock_path(pets).read_text())["pid"] == other  # not taken over
    w.close()


def test_model_versions_deletes_a_candidate_never_the_model_in_use(qtbot, win, pets,
                                                                   monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=False)
    win.learning.panel.k_spin.setValue(2)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        win.model_actions.learn_as_i_correct.trigger()
    candidate = done.args[0].model_path
    assert candidate.is_file()
    dialog = win.task_commands.show_versions()
    row = next(i for i, f in enumerate(dialog._files) if f.endswith(candidate.name))
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        dialog.use_row(row)  # the candidate is put into use: it cannot be deleted
    qtbot.waitUntil(lambda: load_task(pets).model.endswith(candidate.name), timeout=TIMEOUT_MS)
    dialog.table.selectRow(row)
    assert not dialog.delete_button.isEnabled()
    assert not win.task_commands.delete_version(dialog._files[row])
    assert candidate.is_file()
    assert win.models.rollback()  # the model before it is in use again
    qtbot.waitUntil(lambda: not load_task(pets).model.endswith(candidate.name),
                    timeout=TIMEOUT_MS)
    dialog.table.selectRow(row)
    assert dialog.delete_button.isEnabled()
    dialog.delete_button.click()
    assert not candidate.exists()
    assert all(not v.file.endswith(candidate.name) for v in load_task(pets).versions)
    assert len(dialog._files) == len(load_task(pets).versions)  # the dialog mirrors the task


def test_renaming_a_class_keeps_fine_tuning_the_tasks_model(qtbot, win, pets, tiny_model,
                                                            monkeypatch):
    from dataclasses import replace

    hold = Hold(monkeypatch)
    hold.release()  # rounds run at once; their plans are kept
    win.learning.panel.k_spin.setValue(2)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000):
        win.model_actions.learn_as_i_correct.trigger()
    qtbot.wait(200)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    task = win.session.workspace.task
    scheme = task.scheme
    renamed = replace(scheme, classes=(replace(scheme.classes[0], name="cat"),
                                       *scheme.classes[1:]))
    model_before = win.models.active.path
    assert win.task_commands.apply_task(replace(task, scheme=renamed))
    qtbot.waitUntil(lambda: win.session.workspace.scheme == renamed, timeout=TIMEOUT_MS)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        correct(qtbot, win, 4)
    assert hold.plans[-1].parent == model_before  # not a new model from the ImageNet encoder
    assert hold.plans[-1].renamed
    result = done.args[0]
    assert result.gate != "first_model"
    assert read_meta(result.model_path).scheme.names == renamed.names
