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
