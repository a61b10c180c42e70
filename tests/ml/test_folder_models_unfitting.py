"""A model that cannot label the task's classes put into use (Roll Back to the start model):
the folder's model owner then names no version in use, and a run planned from the version
before is kept as a candidate that names the model the user chose."""

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


def finished_version(models: FolderModels, factory, seed: int) -> Path:
    plan = models.plan_run("loop", None)
    path, _ = factory(trimap_scheme(), seed=seed, name=f"made-{seed}.safetensors")
    plan.out.write_bytes(path.read_bytes())
    assert models.finish_run(plan, plan.out, promote=True).in_use
    return plan.out


def test_a_run_from_the_version_before_an_unfitting_model_is_only_a_candidate(
        folder, model_file_factory):
    models = FolderModels(folder, folder.parent / "user-models")
    v1 = finished_version(models, model_file_factory, 0)
    start, _ = model_file_factory(binary_scheme(), seed=3, name="start.safetensors")
    late = models.plan_run("loop", v1)
    assert models.use_unfitting(start)
    assert load_task(folder).model is None  # no version of the task is in use
    assert not models.use_unfitting(start)  # nothing changes a second time
    path, _ = model_file_factory(trimap_scheme(), seed=1, name="made-1.safetensors")
    late.out.write_bytes(path.read_bytes())
    outcome = models.finish_run(late, late.out, promote=True)
    assert not outcome.in_use and outcome.held_back == "start was put into use while it trained"
    assert load_task(folder).model is None
    assert models.use(v1)  # rolled forward again: the version is in use, the note no longer
    assert model_file(folder, load_task(folder).model) == v1.resolve()


def test_an_unfitting_version_of_the_task_stays_named_in_use(folder, model_file_factory):
    models = FolderModels(folder, folder.parent / "user-models")
    v1 = finished_version(models, model_file_factory, 0)
    finished_version(models, model_file_factory, 1)
    assert models.use_unfitting(v1)  # e.g. a version trained before Mask > Classes changed
    assert model_file(folder, load_task(folder).model) == v1.resolve()
