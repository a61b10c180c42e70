"""``unet-desktop evaluate`` says which of the images it scores the model trained on (by their
content, as the model file records them, or by name for files that record only names), and the
summary line says how many; a model file that records nothing is said to. A user scoring a
model on its own training images read an inflated figure as a measure of its quality."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, read_meta, save_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--arch", "unet", "--size", "32", "--base", "4", "--depth", "2", "--batch-size", "2",
        "--device", "cpu", "--workers", "0", "--max-steps", "2"]


def _workspace(root, n: int = 6):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        image = rng.integers(0, 256, (32, 32, 3), np.uint8)
        Image.fromarray(image).save(root / f"images/disc_{i}.png")
        Image.fromarray(np.where(image[..., 0] > 128, 255, 0).astype(np.uint8)).save(
            root / f"masks/disc_{i}.png")
    return root


def _evaluate(data, model, *more) -> int:
    return main(["evaluate", str(data), "--model", str(model), "--device", "cpu", *more])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workspace of 6 images and a model trained on 3 of them (3 held out)."""
    root = tmp_path_factory.mktemp("trained")
    ws = _workspace(root / "ws")
    model = root / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--val-fraction", "0.5", *TINY]) == 0
    return ws, model, sorted(read_meta(model).data_summary["train_keys"])


def test_evaluate_names_the_images_the_model_trained_on(trained, capsys):
    ws, model, train_keys = trained
    assert len(train_keys) == 3
    capsys.readouterr()
    assert _evaluate(ws, model) == 0
    captured = capsys.readouterr()
    assert f"on 6 images of {ws} (3 of them images it trained on)" in captured.out
    note = next(line for line in captured.err.splitlines() if "scored images" in line)
    assert note.startswith("note: 3 of the 6 scored images are images the model trained on: "
                           + ", ".join(train_keys))
    assert note.endswith("--val-only scores only the 3 it was validated on")

    assert _evaluate(ws, model, "--val-only") == 0
    captured = capsys.readouterr()
    assert "(none of them images it trained on, by its record)" in captured.out
    assert "note: none of the 3 scored images is among those the model file records it " \
           "trained on" in captured.err

    assert _evaluate(ws, model, "--json") == 0
    said = json.loads(capsys.readouterr().out)
    assert said["images"] == 6 and said["trained_on"]["images"] == 3
    assert sorted(said["trained_on"]["keys"]) == train_keys


def test_its_training_images_are_known_by_content_under_other_names(trained, tmp_path, capsys):
    ws, model, train_keys = trained
    copy = tmp_path / "copy"
    shutil.copytree(ws / "images", copy / "images")
    shutil.copytree(ws / "masks", copy / "masks")
    first = train_keys[0].split("/")[1]
    for folder in ("images", "masks"):
        (copy / folder / first).rename(copy / folder / "renamed.png")
    capsys.readouterr()
    assert _evaluate(copy, model, "--json") == 0
    said = json.loads(capsys.readouterr().out)["trained_on"]
    assert said["images"] == 3 and "images/renamed.png" in said["keys"]
    assert said["by_name_only"] == []


def _model_recording(path, summary: dict):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), data_summary=summary)
    save_model(path, build_model(meta.arch), meta)
    return path


def test_an_older_record_names_them_and_no_record_is_said(tmp_path, capsys):
    ws = _workspace(tmp_path / "ws", 4)
    keys = [f"images/disc_{i}.png" for i in range(4)]  # as files before train_keys recorded
    older = _model_recording(tmp_path / "older.safetensors",
                             {"mask_sha1": dict.fromkeys(keys, "0" * 40), "val_keys": keys[:1]})
    assert _evaluate(ws, older) == 0
    captured = capsys.readouterr()
    assert "(3 of them images it trained on)" in captured.out
    assert ("note: 3 of the 4 scored images are images the model trained on (by its record of "
            "their names alone): images/disc_1.png, images/disc_2.png, images/disc_3.png;") \
        in captured.err

    silent = _model_recording(tmp_path / "silent.safetensors", {})
    assert _evaluate(ws, silent) == 0
    captured = capsys.readouterr()
    assert "on 4 images of" in captured.out
    assert "(which of them it trained on is not recorded)" in captured.out
    assert f"note: {silent} does not record which images it trained on" in captured.err
