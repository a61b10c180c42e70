"""``unet-desktop predict``, ``info`` and ``export`` from the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

torch.set_num_threads(1)


@pytest.fixture
def model_file(tmp_path):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="cli-test", metrics={"val_miou": 0.25})
    path = tmp_path / "model.safetensors"
    save_model(path, build_model(meta.arch), meta)
    return path


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i, size in enumerate([(48, 32), (48, 32), (33, 61)]):
        Image.fromarray(rng.integers(0, 256, (*size, 3), dtype=np.uint8)).save(
            folder / f"photo_{i}.png")
    Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8)).save(folder / "gray.jpg")
    (folder / "truncated.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    return folder


@pytest.mark.reliability("images", "`unet-desktop predict`: truncated PNG reported, exit 0")
def test_predict_folder_with_a_broken_file(model_file, image_folder, tmp_path, capsys):
    out = tmp_path / "predicted"  # not tmp_path/masks: the images folder's own mask folder
    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu", "--batch-size", "2", "--probs"])
    captured = capsys.readouterr()
    assert code == 0
    assert "truncated.png" in captured.err and "warning" in captured.err
    assert "4 predicted, 0 skipped, 1 failed of 5 images" in captured.out
    mask = read_mask(out / "photo_2.png", trimap_scheme())
    assert mask.shape == (33, 61) and set(np.unique(mask)) <= {1, 2, 3}
    assert read_mask(out / "gray.png", trimap_scheme()).shape == (20, 30)
    assert np.load(out / "gray_probs.npy").shape == (3, 20, 30)

    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu"])
    assert code == 0  # nothing left to do is not an error
    assert "0 predicted, 4 skipped, 1 failed" in capsys.readouterr().out


def test_predict_one_image_in_tile_mode(model_file, image_folder, tmp_path, capsys):
    code = main(["predict", str(image_folder / "photo_2.png"), "--out", str(tmp_path / "o"),
                 "--model", str(model_file), "--device", "cpu", "--mode", "tile",
                 "--tile-size", "32", "--tta"])
    assert code == 0
    assert read_mask(tmp_path / "o" / "photo_2.png", trimap_scheme()).shape == (33, 61)


@pytest.mark.reliability("models", "`unet-desktop predict` with a missing or bad model")
def test_missing_or_bad_model_exits_2_with_one_line(image_folder, tmp_path, capsys, monkeypatch):
    code = main(["predict", str(image_folder), "--out", str(tmp_path / "o"),
                 "--model", str(tmp_path / "nope.safetensors")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nope.safetensors: no such file" in err

    from unet_desktop.core.io import paths  # an install whose shipped model is missing

    monkeypatch.setattr(paths, "models_dir", lambda: tmp_path / "no-models")
    code = main(["predict", str(image_folder), "--out", str(tmp_path / "o")])  # default model
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "default model" in err
    assert not (tmp_path / "o").exists()


def test_nothing_readable_exits_2(model_file, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"garbage")
    code = main(["predict", str(folder), "--out", str(tmp_path / "o"), "--model",
                 str(model_file), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "a.jpg" in err and "no image could be predicted" in err


def test_real_pet_images_with_quirks(model_file, shared_data, tmp_path, capsys):
    images = shared_data / "pets" / "images"
    for name in ("Abyssinian_34.jpg", "Abyssinian_5.jpg"):  # a GIF and an RGBA PNG
        code = main(["predict", str(images / name), "--out", str(tmp_path / "o"),
                     "--model", str(model_file), "--device", "cpu"])
        assert code == 0, capsys.readouterr().err
        with Image.open(images / name) as im:
            expected = im.size[::-1]
        assert read_mask(tmp_path / "o" / name.replace(".jpg", ".png")).shape == expected


def test_info_shortens_long_lists_but_json_keeps_them(tmp_path, capsys):
    from unet_desktop.core.labels import trimap_scheme
    from unet_desktop.ml.models.architecture import build_model, unet_arch
    from unet_desktop.ml.models.modelfile import ModelMeta, save_model

    keys = [f"images/pet_{i:03d}.jpg" for i in range(120)]
    arch = unet_arch(3, 3, depth=2, base=4)
    meta = ModelMeta(arch=arch, scheme=trimap_scheme(), train_size=32, version="v",
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3},
                     data_summary={"images": 600, "val_keys": keys,
                                   "mask_sha1": {k: "0" * 40 for k in keys}})
    save_model(tmp_path / "m.safetensors", build_model(arch), meta)
    assert main(["info", str(tmp_path / "m.safetensors")]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "val_keys" in x)
    assert "120 items: images/pet_000.jpg" in line and len(line) < 200
    assert max(len(x) for x in out.splitlines()) < 200
    assert main(["info", str(tmp_path / "m.safetensors"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data_summary"]["val_keys"] == keys


def test_info_and_export(model_file, tmp_path, capsys):
    assert main(["info", str(model_file)]) == 0
    out = capsys.readouterr().out
    assert "cli-test" in out and "trimap, 3 classes" in out and "val_miou: 0.25" in out
    assert main(["info", str(model_file), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["scheme"]["kind"] == "trimap" and info["parameters"] > 0

    onnx_path = tmp_path / "model.onnx"
    assert main(["export", str(model_file), "--onnx", str(onnx_path)]) == 0
    assert "checked with onnxruntime" in capsys.readouterr().out
    import onnx

    meta = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert json.loads(meta["unet_desktop_meta"])["name"] == "cli-test"
    assert main(["info", str(tmp_path / "missing.safetensors")]) == 2


def test_predict_runs_the_windows_batch_job_and_survives_out_of_memory(
        model_file, image_folder, tmp_path, capsys, monkeypatch):
    """The CLI goes through ``ml.inference.batch_job`` (the window's run): an out-of-memory error halves
    the batch and says so instead of ending the run."""
    from unet_desktop.ml.inference.predictor import Predictor

    real_batch, sizes = Predictor.predict_batch, []

    def out_of_memory_on_big_batches(self, images, **options):
        sizes.append(self.batch_size)
        if self.batch_size > 1:
            raise RuntimeError("CPU out of memory (simulated)")
        return real_batch(self, images, **options)

    monkeypatch.setattr(Predictor, "predict_batch", out_of_memory_on_big_batches)
    out = tmp_path / "predicted"  # not tmp_path/masks: the images folder's own mask folder
    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu", "--batch-size", "2"])
    captured = capsys.readouterr()
    assert code == 0 and sizes[0] == 2 and set(sizes[1:]) == {1}
    assert "warning: Out of memory on cpu: retrying with batch size 2 -> 1" in captured.err
    assert "4 predicted, 0 skipped, 1 failed of 5 images" in captured.out


def test_predict_refuses_the_input_folders_own_mask_folder(model_file, image_folder, capsys):
    """Masks written there as plain files would read back as the user's corrections."""
    out = image_folder / "masks"  # where the flat folder's masks live
    code = main(["predict", str(image_folder), "--out", str(out), "--model", str(model_file),
                 "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "masks" in err and "taken for your corrections" in err
    assert not out.exists()
