"""``unet-desktop predict`` errors that must name the file: a full disk when the record of the
written masks is saved, and ``--out`` naming a file."""

from __future__ import annotations

import errno

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference import prediction_record
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

torch.set_num_threads(1)


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="cli-test")
    path = tmp_path / "model.safetensors"
    save_model(path, build_model(meta.arch), meta)
    return path


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)).save(
            folder / f"photo_{i}.png")
    return folder


def _full_disk(path, data):
    raise OSError(errno.ENOSPC, "No space left on device")  # as atomic_write's os.write


def test_full_disk_at_the_record_names_it_and_counts_the_masks(model_file, image_folder,
                                                               tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setattr(prediction_record, "atomic_write_bytes", _full_disk)
    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu", "--batch-size", "2"])
    captured = capsys.readouterr()
    assert code == 2
    error = next(line for line in captured.err.splitlines() if "error:" in line)
    assert str(out / "unet-desktop-predictions.json") in error
    assert "No space left on device" in error
    assert "3 predicted, 0 skipped, 0 failed of 3 images" in captured.out
    assert sorted(p.name for p in out.glob("photo_*.png")) == [f"photo_{i}.png" for i in range(3)]

    monkeypatch.undo()  # space is back: the rerun knows the masks it wrote (the journal)
    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu"])
    assert code == 0
    assert "0 predicted, 3 skipped" in capsys.readouterr().out


def test_out_naming_a_file_says_so(model_file, image_folder, tmp_path, capsys):
    out = tmp_path / "outfile"
    out.write_text("not a folder")
    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu"])
    error = capsys.readouterr().err
    assert code == 2
    assert str(out) in error and "not a folder" in error
    assert "File exists" not in error
    assert out.read_text() == "not a folder"
