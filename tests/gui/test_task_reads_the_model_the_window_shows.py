"""The task's side of the window reads the model in use as the window was told of it
(``ModelController.current``), never the one the worker swapped in before the window heard
(``models.slots``): a task made for a fine-tune describes the model the run starts from, a task
edit does not reload the task's model over one the user just opened, and Roll Back's fallback
is the parent of the model the window shows. A folder that says nothing of its classes opens in
those of the model shown."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
    tiny_pets,
    window_on,
)
from unet_desktop.core.folder.task import Task, load_task, model_file, save_task
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.loop.folder_models import FolderModels
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model


def binary_model_file(path: Path) -> Path:
    """A model of other classes than the pets' trimaps."""
    torch.manual_seed(3)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id() + "-binary", name="binary")
    save_model(path, build_model(meta.arch), meta)
    return path


def swapped_in_unheard(win, path: Path) -> None:
    """Model > Open of ``path``, swapped in on the worker; the window has not heard of it yet
    (the UI thread handles no event meanwhile)."""
    job = win.models.load(path)
    assert win.models.worker.wait_until_finished(job, TIMEOUT_MS / 1000)
    assert win.models.slots.current.path == path


def test_a_task_made_for_a_fine_tune_describes_the_model_the_window_shows(
        qtbot, tiny_model, tiny_pets, tmp_path):
    win = window_on(qtbot, tiny_pets, tiny_model)
    assert load_task(tiny_pets) is None and win.models.current.path == tiny_model
    other = binary_model_file(tmp_path / "binary.safetensors")
    swapped_in_unheard(win, other)
    task = win.task_commands.ensure_task()  # Training > Fine-tune in a folder without a task
    assert task is not None
    assert task.start_from is None  # the trimap model shown fits: no other model to map from
    plan, _run = win.training_commands.plan_for(win.session.workspace)
    assert plan.init == tiny_model  # the run starts from the model shown, as the task says
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.current.path == other  # then heard of: the banner says it does not fit
    assert "does not fit" in win.task_banner.text()
    win.close()


def test_a_task_edit_keeps_the_model_the_user_opened_meanwhile(qtbot, tiny_model, tiny_pets,
                                                               tmp_path):
    win = window_on(qtbot, tiny_pets, tiny_model)
    task = win.task_commands.ensure_task()
    assert task is not None and win.models.current.path == tiny_model
    other = make_model_file(tmp_path / "other.safetensors", seed=1, name="other")
    swapped_in_unheard(win, other)
    messages = []
    win.task_commands.message.connect(messages.append)
    assert win.task_commands.apply_task(replace(task, name="renamed"))  # same classes: no reopen
    assert not any(m.startswith("Loading the task's model") for m in messages)
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.current.path == other  # the user's choice stays in use
    ws = win.session.workspace
    assert model_file(ws.root, load_task(ws.root).model).name.startswith("other")
    win.close()


def test_roll_back_falls_back_to_the_parent_of_the_model_shown(qtbot, tmp_path):
    folder = make_pets(tmp_path / "pets")
    save_task(folder, Task("pets", trimap_scheme()))
    owner = FolderModels(folder, tmp_path / "user-models")
    start = make_model_file(tmp_path / "start.safetensors", seed=5, name="start")
    for seed in (6, 7):  # v1 from the start model, v2 from v1 (promoted: in use)
        plan = owner.plan_run("loop", start)
        owner.finish_run(plan, make_model_file(plan.out, seed=seed, name=plan.name), True)
        start = plan.out
    task = load_task(folder)
    v1, v2 = (model_file(folder, v.file) for v in task.versions)
    assert model_file(folder, task.model) == v2
    win = window_on(qtbot, folder, tmp_path / "start.safetensors")
    qtbot.waitUntil(lambda: win.models.current is not None
                    and win.models.current.path == v2, timeout=TIMEOUT_MS)
    assert win.models.previous is None and win.task_commands.parent_version_file() == v1
    other = make_model_file(tmp_path / "other.safetensors", seed=8, name="other")
    swapped_in_unheard(win, other)
    assert win.task_commands.parent_version_file() == v1  # of v2, the model shown
    win.model_commands.refresh_rollback()
    assert win.model_actions.rollback.isEnabled()
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    win.close()


def test_a_folder_without_classes_opens_in_those_of_the_model_shown(qtbot, tiny_model,
                                                                   tiny_pets, tmp_path):
    win = window_on(qtbot, tiny_pets, tiny_model)
    fresh = tmp_path / "fresh"  # no masks, no task: the model's classes are the folder's
    fresh.mkdir()
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(fresh / "a.png")
    swapped_in_unheard(win, binary_model_file(tmp_path / "binary.safetensors"))
    assert win.open_folder(fresh)
    assert win.session.workspace.scheme.kind == "trimap"  # of the trimap model shown
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    win.close()
