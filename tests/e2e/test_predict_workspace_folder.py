"""``unet-desktop predict`` on a workspace folder (images in ``images/``) predicts its images by
the folder's layout, as the window, ``train`` and ``evaluate`` open it, and leaves no output
folder behind when there is nothing to predict."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

torch.set_num_threads(1)


def _model(path, seed):
    torch.manual_seed(seed)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=f"{new_version_id()}-{seed}", name=path.stem)
    save_model(path, build_model(meta.arch), meta)
    return path


@pytest.fixture
def v1(tmp_path):
    return _model(tmp_path / "v1.safetensors", 0)


def _images(folder, count):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(
            folder / f"photo_{i}.png")


def _predict(*args):
    return main(["predict", *map(str, args), "--device", "cpu"])


def test_a_workspace_folder_is_predicted_by_its_layout(v1, tmp_path, capsys):
    ws = tmp_path / "ws"
    _images(ws / "images", 2)
    (ws / "masks").mkdir()
    write_mask(ws / "masks" / "photo_0.png", np.full((32, 48), 1, np.uint8), trimap_scheme())
    out = tmp_path / "preds"
    code = _predict(ws, "--out", out, "--model", v1)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2 predicted, 0 skipped, 0 failed of 2 images" in captured.out
    assert "images in images/" in captured.err
    assert sorted(p.name for p in out.glob("*.png")) == ["photo_0.png", "photo_1.png"]
    assert read_mask(out / "photo_1.png", trimap_scheme()).shape == (32, 48)


def test_no_images_leaves_no_output_folder(v1, tmp_path, capsys):
    (tmp_path / "empty" / "images").mkdir(parents=True)
    out = tmp_path / "preds"
    code = _predict(tmp_path / "empty", "--out", out, "--model", v1)
    error = capsys.readouterr().err
    assert code == 2
    assert "no images found" in error and "images in images/" in error
    assert not out.exists()
