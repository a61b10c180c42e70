"""``unet-desktop predict FOLDER`` without --model predicts with the model in use of the
folder's task, as the window does on opening it, and says so; the shipped starter only where
the folder has no task model, saying that too. It used the shipped pets model on a task's
folder, writing pet trimaps for a task of other classes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.io import paths
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(path, scheme) -> None:
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, scheme.num_classes, depth=2, base=4), scheme=scheme,
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name=path.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_model(path, build_model(meta.arch), meta)


@pytest.fixture(autouse=True)
def starter(tmp_path, monkeypatch):
    """A tiny trimap model as the shipped starter (the pets model is a trimap one)."""
    folder = tmp_path / "shipped"
    _model(folder / f"{paths.DEFAULT_MODEL_NAME}.safetensors", trimap_scheme())
    monkeypatch.setattr(paths, "models_dir", lambda: folder)


def _workspace(root, model: str | None):
    """A folder of one image whose task 'cells' (binary) has ``model`` in use."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32, 3), np.uint8)).save(
        root / "images/a.png")
    _model(root / ".unet-desktop/models/cells-v1.safetensors", binary_scheme())
    save_task(root, Task("cells", binary_scheme(), model=model))
    return root


def _predict(source, out) -> int:
    return main(["predict", str(source), "--out", str(out), "--device", "cpu"])


def _values(mask_path) -> set[int]:
    return set(np.unique(np.asarray(Image.open(mask_path))).tolist())


def test_the_tasks_model_in_use_predicts_its_folder(tmp_path, capsys):
    ws = _workspace(tmp_path / "ws", "models/cells-v1.safetensors")
    in_use = ws / ".unet-desktop/models/cells-v1.safetensors"
    for source, out in ((ws, tmp_path / "out"), (ws / "images", tmp_path / "out2"),
                        (ws / "images/a.png", tmp_path / "out3")):
        assert _predict(source, out) == 0
        err = capsys.readouterr().err
        assert f"predicting with the model in use of the folder's task 'cells': {in_use}" in err
        assert _values(out / "a.png") <= {0, 255}  # binary, not the starter's trimap 1/2/3


def test_the_starter_predicts_a_folder_without_a_task_model_and_says_so(tmp_path, capsys):
    ws = _workspace(tmp_path / "ws", None)
    assert _predict(ws, tmp_path / "out") == 0
    err = capsys.readouterr().err
    assert ("no --model: predicting with the shipped starter model pets-trimap.safetensors "
            "(the folder's task 'cells' has no model in use yet)") in err
    assert _values(tmp_path / "out/a.png") <= {1, 2, 3}

    plain = tmp_path / "plain"
    plain.mkdir()
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(plain / "b.png")
    assert _predict(plain, tmp_path / "out2") == 0
    assert "(the folder has no task with a model of its own)" in capsys.readouterr().err


def test_a_missing_task_model_is_refused_not_replaced_by_the_starter(tmp_path, capsys):
    ws = _workspace(tmp_path / "ws", "models/cells-v2.safetensors")
    assert _predict(ws, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "cells-v2.safetensors: the model in use of the folder's task 'cells' is missing" in err
    assert not (tmp_path / "out").exists()


def test_model_overrides_the_task(tmp_path, capsys):
    ws = _workspace(tmp_path / "ws", "models/cells-v1.safetensors")
    other = tmp_path / "pets.safetensors"
    _model(other, trimap_scheme())
    assert main(["predict", str(ws), "--out", str(tmp_path / "out"), "--model", str(other),
                 "--device", "cpu"]) == 0
    assert "no --model" not in capsys.readouterr().err
    assert _values(tmp_path / "out/a.png") <= {1, 2, 3}
