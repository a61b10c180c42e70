"""Batch prediction in place into a folder whose task reordered its classes (Mask > Classes >
Up/Down, names and values kept) writes the task's model's predictions: they are stored values,
which keep their classes; it was refused as 'the model predicts multiclass masks but this
folder's masks are multiclass'."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.inference.batch_job import BatchSettings, batch_predictor, run_batch


def test_batch_in_place_into_a_reordered_task(tmp_path, model_file_factory):
    three = multiclass_scheme(["bg", "cell", "debris"], ignore_value=255)
    model, _ = model_file_factory(three)
    folder = tmp_path / "folder"
    folder.mkdir()
    Image.fromarray(np.full((24, 32, 3), 90, np.uint8)).save(folder / "a.png")
    reordered = replace(three, classes=(three.classes[2], three.classes[0], three.classes[1]))
    save_task(folder, Task("cells", reordered))
    settings = BatchSettings(folder, model, device="cpu")
    list(run_batch(settings, batch_predictor(settings)))
    masks = list(folder.rglob("a.png"))
    written = [p for p in masks if p.parent != folder]
    assert written and set(np.unique(read_mask(written[0], reordered))) <= {0, 1, 2}
