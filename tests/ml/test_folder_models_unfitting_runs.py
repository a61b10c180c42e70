"""Runs that end while a model that cannot label the task's classes is in use (Roll Back to the
start model): the versions the user stepped away from stay, and a run planned before the user's
choice is not put into use over it."""

from __future__ import annotations

from pathlib import Path

import pytest

from unet_desktop.core.folder.task import Task, load_task, model_file, save_task
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.loop.folder_models import FolderModels


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "cells"
    root.mkdir()
    save_task(root, Task("cells", trimap_scheme()))
    return root

def _trained(models: FolderModels, factory, parent: Path | None, seed: int):
    plan = models.plan_run("loop", parent)
    path, _ = factory(trimap_scheme(), seed=seed, name=f"made-{seed}.safetensors")
    plan.out.write_bytes(path.read_bytes())
    return plan


def _five_versions(models: FolderModels, factory) -> list[Path]:
    """v1 <- v2 <- ... <- v5, each put into use."""
    parent, files = None, []
    for seed in range(5):
        plan = _trained(models, factory, parent, seed)
        assert models.finish_run(plan, plan.out, promote=True).in_use
        parent = plan.out
        files.append(plan.out)
    return files


def test_roll_back_to_the_start_model_during_a_run_deletes_no_version(folder,
                                                                      model_file_factory):
    models = FolderModels(folder, folder.parent / "user-models")
    start, _ = model_file_factory(binary_scheme(), seed=9, name="pets.safetensors")
    files = _five_versions(models, model_file_factory)
    late = _trained(models, model_file_factory, files[-1], 7)  # a round from v5 trains
    assert models.use_unfitting(start)  # Roll Back to the start model meanwhile
    outcome = models.finish_run(late, late.out, promote=True, keep=[files[-1], start])
    assert not outcome.in_use
    assert [f.name for f in files if not f.exists()] == []
    task = load_task(folder)
    assert task.model is None
    assert [v.name for v in task.versions] == [f"cells-v{n}" for n in range(1, 7)]
    assert models.use(files[-1])  # rolled forward: v5 is in use, its line as before
    assert model_file(folder, load_task(folder).model) == files[-1].resolve()


def test_a_restart_with_no_version_in_use_deletes_none(folder, model_file_factory):
    models = FolderModels(folder, folder.parent / "user-models")
    start, _ = model_file_factory(binary_scheme(), seed=9, name="pets.safetensors")
    files = _five_versions(models, model_file_factory)
    assert models.use_unfitting(start)
    again = FolderModels(folder, folder.parent / "user-models")  # the app restarted
    assert again.prune() == []
    assert all(f.exists() for f in files)


def test_the_first_round_is_a_candidate_when_the_user_put_another_model_into_use(
        folder, model_file_factory):
    models = FolderModels(folder, folder.parent / "user-models")
    start, _ = model_file_factory(binary_scheme(), seed=9, name="pets.safetensors")
    first = _trained(models, model_file_factory, None, 0)  # the task has no version yet
    assert not models.use_unfitting(start)  # no version was in use, none is
    outcome = models.finish_run(first, first.out, promote=True)
    assert not outcome.in_use
    assert outcome.held_back == "pets was put into use while it trained"
    assert outcome.note.startswith("kept as a candidate: pets was put into use while it trained")
    task = load_task(folder)
    assert task.model is None and [v.name for v in task.versions] == ["cells-v1"]


def test_a_round_planned_while_the_start_model_is_in_use_is_put_into_use(
        folder, model_file_factory):
    models = FolderModels(folder, folder.parent / "user-models")
    start, _ = model_file_factory(binary_scheme(), seed=9, name="pets.safetensors")
    files = _five_versions(models, model_file_factory)
    assert models.use_unfitting(start)
    fresh = _trained(models, model_file_factory, start, 8)  # it starts from the user's choice
    outcome = models.finish_run(fresh, fresh.out, promote=True)
    assert outcome.in_use and outcome.held_back == ""
    assert model_file(folder, load_task(folder).model) == fresh.out.resolve()
    assert files[-1].exists()  # kept as one of the last candidates
