"""Batch Predict in place with the task's own model after a class was renamed (Mask > Classes,
values kept): the window shows and accepts that model's predictions under the new names
(``core.folder.task.prediction_mismatch``), but batch predict refused it as 'the model predicts
bg, cell, debris, this folder's task labels bg, cell, junk'. Both now ask the same rule: the
task's own model (known by its file) fits; another model of the old names still does not."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.api import load_model
from unet_desktop.ml.inference.batch_job import BatchSettings, batch_predictor, run_batch

THREE = multiclass_scheme(["bg", "cell", "debris"], ignore_value=255)
RENAMED = replace(THREE, classes=(*THREE.classes[:2], replace(THREE.classes[2], name="junk")))


@pytest.fixture
def renamed_task(tmp_path, model_file_factory):
    """A folder of two images whose task's model is ``cells-v1`` and whose class 'debris' was
    renamed 'junk' since; returns (folder, the task's model, another model of the old names)."""
    own, _ = model_file_factory(THREE, name="cells-v1.safetensors")
    other, _ = model_file_factory(THREE, seed=1, name="other.safetensors")
    folder = tmp_path / "cells"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(folder / name)
    save_task(folder, Task("cells", RENAMED, model=str(own)))
    return folder, own, other


def _states(folder) -> list[ImageState]:
    ws = Workspace.open(folder, writer=False)
    try:
        return [e.state for e in ws]
    finally:
        ws.close()


def test_the_task_s_own_model_file_predicts_the_renamed_task_in_place(renamed_task):
    folder, own, _ = renamed_task
    settings = BatchSettings(folder, own, device="cpu")
    last = list(run_batch(settings, batch_predictor(settings)))[-1]
    assert last.predicted == 2 and not last.failed
    assert _states(folder) == [ImageState.PREDICTED] * 2


def test_the_model_in_use_is_known_by_its_file(renamed_task):
    """The window's run (no model file named): the model in use and its file."""
    folder, own, _ = renamed_task
    settings = BatchSettings(folder, device="cpu")
    in_use = load_model(own, device="cpu")
    last = list(run_batch(settings, batch_predictor(settings, lambda: (in_use, own))))[-1]
    assert last.predicted == 2
    with pytest.raises(ValueError, match="this folder's task labels bg, cell, junk"):
        list(run_batch(settings, batch_predictor(settings, lambda: (in_use, None))))


def test_another_model_of_the_old_names_is_still_refused(renamed_task):
    folder, _, other = renamed_task
    settings = BatchSettings(folder, other, device="cpu")
    with pytest.raises(ValueError, match="predicts bg, cell, debris .*choose an output folder"):
        list(run_batch(settings, batch_predictor(settings)))
    assert _states(folder) == [ImageState.UNLABELED] * 2
