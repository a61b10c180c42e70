"""The CLI on a folder whose task is a sparse one made in the window: `train --scheme ...`
keeps the task's class names (they came out class_0.. / background, foreground, and the model
then "did not fit" the task), its epoch line does not call figures on the training images
"val"; `evaluate` reads the task's unlabeled value (every stroke mask was "not scored") and
says when its figures count only the strokes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tests.e2e.test_train_cli import TINY, binary_workspace
from unet_desktop.cli import main
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.models.modelfile import read_meta

pytestmark = pytest.mark.usefixtures("one_torch_thread")

UNLABELED = 128
NAMES = ("cell", "membrane")


def stroke_task(root):
    """Discs whose masks keep every 6th pixel (the rest unlabeled), a task naming its classes."""
    ws = binary_workspace(root, n=4)
    for path in sorted((ws / "masks").iterdir()):
        full = np.array(Image.open(path))
        sparse = np.full_like(full, UNLABELED)
        sparse[::6, ::6] = full[::6, ::6]
        Image.fromarray(sparse).save(path)
    save_task(ws, Task("cells", binary_scheme(NAMES, UNLABELED)))
    return ws


def test_train_with_the_tasks_scheme_keeps_its_class_names_and_says_what_it_scored(
        tmp_path, capsys):
    ws = stroke_task(tmp_path / "ws")
    out = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(out), "--scheme", "binary", "--ignore",
                 str(UNLABELED), "--all-masks", "--val-fraction", "0", "--epochs", "1",
                 *TINY]) == 0
    err = capsys.readouterr().err
    assert tuple(read_meta(out).scheme.names) == NAMES
    epoch_line = next(line for line in err.replace("\r", "\n").splitlines() if "train loss" in line)
    assert "on the training images: loss" in epoch_line and "val loss" not in epoch_line

    save_task(ws, Task("pets", trimap_scheme()))  # flags that do not describe the task
    assert main(["train", str(ws), "--out", str(tmp_path / "other.safetensors"), "--scheme",
                 "binary", "--ignore", str(UNLABELED), "--all-masks", "--epochs", "1",
                 *TINY]) == 0
    assert "--scheme binary does not fit the folder's task 'pets'" in capsys.readouterr().err


def test_evaluate_reads_the_tasks_unlabeled_value_and_says_it_scored_strokes(tmp_path, capsys):
    ws = stroke_task(tmp_path / "ws")
    dense = binary_workspace(tmp_path / "dense", n=4)
    model = tmp_path / "m.safetensors"
    assert main(["train", str(dense), "--out", str(model), "--epochs", "1", *TINY]) == 0
    assert read_meta(model).scheme.ignore_value is None
    capsys.readouterr()
    assert main(["evaluate", str(ws), "--model", str(model), "--all-masks", "--device",
                 "cpu"]) == 0
    captured = capsys.readouterr()
    assert f"unlabeled pixels are {UNLABELED}, as the folder's task 'cells'" in captured.err
    assert "count only the strokes: 3.1% of the pixels" in captured.out
    assert main(["evaluate", str(ws), "--model", str(model), "--all-masks", "--json",
                 "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["labelled"] == pytest.approx(49 / 1600)
    assert main(["evaluate", str(dense), "--model", str(model), "--device", "cpu"]) == 0
    assert "strokes" not in capsys.readouterr().out


def three_class_folder(root, sparse: bool):
    """Discs (1) under a top band (2) on a ground (0); sparse: every 4th pixel, 255 elsewhere."""
    from tests.e2e.test_train_cli import _discs

    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, image, fg in _discs(4):
        Image.fromarray(image).save(root / "images" / f"d_{i}.png")
        mask = np.where(fg, 1, 0).astype(np.uint8)
        mask[:5, :] = 2
        if sparse:
            strokes = np.full_like(mask, 255)
            strokes[::4, ::4] = mask[::4, ::4]
            mask = strokes
        Image.fromarray(mask).save(root / "masks" / f"d_{i}.png")
    return root


def test_a_task_whose_classes_were_reordered_is_still_the_tasks_for_the_cli(tmp_path, capsys):
    """Mask > Classes > Up keeps the task's model fitting (0ac3a9f); evaluate then read no
    unlabeled value (every stroke mask 'not scored') and train lost the task's class names."""
    from unet_desktop.core.labels import ClassInfo, LabelScheme

    model = tmp_path / "m.safetensors"
    assert main(["train", str(three_class_folder(tmp_path / "dense", False)), "--out",
                 str(model), "--scheme", "multiclass", "--classes", "3", "--epochs", "1",
                 "--val-fraction", "0", *TINY]) == 0
    ground, disc, band = (ClassInfo("ground", (0, 0, 0), 0), ClassInfo("disc", (9, 9, 9), 1),
                          ClassInfo("band", (99, 99, 99), 2))
    ws = three_class_folder(tmp_path / "ws", True)
    save_task(ws, Task("reordered", LabelScheme("multiclass", (disc, ground, band), 255)))
    capsys.readouterr()
    assert main(["evaluate", str(ws), "--model", str(model), "--all-masks", "--device",
                 "cpu"]) == 0
    assert "unlabeled pixels are 255" in capsys.readouterr().err
    out = tmp_path / "new.safetensors"
    assert main(["train", str(ws), "--out", str(out), "--scheme", "multiclass", "--classes",
                 "3", "--ignore", "255", "--all-masks", "--epochs", "1", *TINY]) == 0
    assert "does not fit" not in capsys.readouterr().err
    assert tuple(read_meta(out).scheme.names) == ("disc", "ground", "band")
