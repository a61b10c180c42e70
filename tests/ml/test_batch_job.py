"""The batch run the window and the CLI share never writes a model's masks into a folder whose
classes are not the model's (issue 16, item 1), nor its predictions as files the folder would
take for the user's own masks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.inference.batch_job import BatchSettings, batch_predictor, run_batch

torch.set_num_threads(1)


@pytest.fixture
def task_folder(tmp_path):
    """A flat folder of three images with a binary task "outside / cell" and no masks yet."""
    root = tmp_path / "cells"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(
            root / f"cell_{i}.png")
    save_task(root, Task("cells", binary_scheme(("outside", "cell"), ignore_value=128)))
    return root


def test_a_task_folder_without_masks_keeps_its_classes_and_refuses_another_models(
        task_folder, tiny_model_file):
    settings = BatchSettings(task_folder, tiny_model_file, device="cpu")  # a trimap model
    with pytest.raises(ValueError, match="trimap"):
        list(run_batch(settings, batch_predictor(settings)))
    assert not (task_folder / "masks").exists()


def test_the_folders_own_mask_folder_is_no_output_folder(task_folder, tiny_model_file):
    (task_folder / "masks").mkdir()
    settings = BatchSettings(task_folder, tiny_model_file, output=task_folder / "masks",
                             device="cpu")
    with pytest.raises(ValueError, match="mask folder of the images"):
        list(run_batch(settings, batch_predictor(settings)))
    assert list((task_folder / "masks").iterdir()) == []
    elsewhere = BatchSettings(task_folder, tiny_model_file, output=task_folder.parent / "out",
                              device="cpu")
    last = list(run_batch(elsewhere, batch_predictor(elsewhere)))[-1]
    assert (last.predicted, last.total) == (3, 3)  # another folder: not the task's masks


def test_a_stack_in_a_folder_predicted_into_an_output_folder_is_predicted_once(
        task_folder, tiny_model_file):
    """Each slice of a stack is an entry of the folder: its file was one job per slice, each
    predicting every slice again (5 pages: 25 jobs, the mask stack written 5 times)."""
    import tifffile

    volume = np.random.default_rng(1).integers(0, 255, (5, 24, 32), dtype=np.uint8)
    tifffile.imwrite(task_folder / "volume.tif", volume)
    settings = BatchSettings(task_folder, tiny_model_file, output=task_folder.parent / "out",
                             device="cpu")
    last = list(run_batch(settings, batch_predictor(settings)))[-1]
    assert (last.predicted, last.total) == (3 + 5, 3 + 5)
    assert tifffile.imread(task_folder.parent / "out" / "volume.tif").shape == (5, 24, 32)


def test_a_folder_another_window_holds_is_not_predicted_in_place(tmp_path, tiny_binary_model_file):
    """In place, the run writes the folder's manifest: it takes the folder's lock, and a folder
    another window writes is refused by name (both wrote their states over each other's);
    into an output folder it runs. The lock goes when the run ends."""
    import json
    import os
    import socket

    from unet_desktop.core.folder.folder_lock import lock_path
    from unet_desktop.core.folder.workspace import Workspace

    folder = tmp_path / "plain"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(np.full((24, 32), 40 * i, np.uint8)).save(folder / f"p_{i}.png")
    settings = BatchSettings(folder, tiny_binary_model_file, device="cpu")
    list(run_batch(settings, batch_predictor(settings)))
    assert not Workspace.open(folder, writer=True).read_only  # let go after the run
    lock_path(folder).write_text(json.dumps({
        "host": socket.gethostname(), "pid": os.getppid(), "since": "2026-12-07T12:00:00Z"}))
    with pytest.raises(ValueError, match=f"another window has this folder open.*{os.getppid()}"):
        list(run_batch(settings, batch_predictor(settings)))
    elsewhere = BatchSettings(folder, tiny_binary_model_file, output=folder.parent / "out",
                              device="cpu")
    assert list(run_batch(elsewhere, batch_predictor(elsewhere)))[-1].predicted == 3
