"""The folder's model owner (``ml.loop.folder_models``) where features meet: a run that ends after
Mask > Classes changed the task's classes, a model file of another folder put into use here."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.loop.folder_models import FolderModels

NAMES = ["pet", "bg", "edge"]


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "m"
    root.mkdir()
    save_task(root, Task("m", multiclass_scheme(NAMES)))
    return root


def owner(folder: Path) -> FolderModels:
    return FolderModels(folder, folder.parent / "user-models")


def test_a_run_planned_before_mask_classes_changed_the_classes_stays_a_candidate(
        folder, model_file_factory):
    models = owner(folder)
    plan = models.plan_run("manual", None)
    trained, _ = model_file_factory(multiclass_scheme(NAMES), name="trained.safetensors")
    plan.out.write_bytes(trained.read_bytes())
    task = load_task(folder)  # Mask > Classes adds a class while it trains
    models.set_task(replace(task, scheme=multiclass_scheme(NAMES + ["tail"])))
    outcome = models.finish_run(plan, plan.out, promote=True)
    assert not outcome.in_use
    assert "before Mask > Classes changed them" in outcome.note
    task = load_task(folder)
    assert task.model is None and [v.name for v in task.versions] == [plan.name]


def test_a_run_ending_after_a_class_rename_is_still_promoted(folder, model_file_factory):
    models = owner(folder)
    plan = models.plan_run("manual", None)
    trained, _ = model_file_factory(multiclass_scheme(NAMES), name="trained.safetensors")
    plan.out.write_bytes(trained.read_bytes())
    task = load_task(folder)  # same values, other names: the task's own model keeps fitting
    models.set_task(replace(task, scheme=multiclass_scheme(["cat", "ground", "rim"])))
    assert models.finish_run(plan, plan.out, promote=True).in_use


def test_another_folders_version_put_into_use_is_copied_and_survives_that_folders_pruning(
        tmp_path, model_file_factory):
    a_root, b_root = tmp_path / "a", tmp_path / "b"
    for root in (a_root, b_root):
        root.mkdir()
        save_task(root, Task("cells", multiclass_scheme(NAMES)))
    a, b = owner(a_root), owner(b_root)
    parent = None
    for i in range(8):  # eight promoted rounds in a: its pruning deletes its first versions
        plan = a.plan_run("loop", parent)
        trained, _ = model_file_factory(multiclass_scheme(NAMES), seed=i, name=f"{i}.safetensors")
        plan.out.write_bytes(trained.read_bytes())
        a.finish_run(plan, plan.out, promote=True)
        if i == 0:
            assert b.use(plan.out)  # b: Model > Open on a's cells-v1
        parent = plan.out
    assert not (a_root / ".unet-desktop" / "models" / "cells-v1.safetensors").exists()
    task = load_task(b_root)
    assert task.model == "models/cells-v1.safetensors"  # b's own copy, a version of b
    assert b.in_use_file().is_file() and [v.file for v in task.versions] == [task.model]
    assert "a copy of" in task.versions[0].note


def test_a_model_file_outside_any_tasks_models_is_recorded_by_its_path(
        folder, model_file_factory):
    path, _ = model_file_factory(multiclass_scheme(NAMES), name="downloaded.safetensors")
    assert owner(folder).use(path)
    task = load_task(folder)
    assert task.model == str(path) and task.versions == ()
