"""CLI errors say what is true: a mistyped command is named, ``--exclude`` that leaves out every
labelled image says so (not "no masks"), and sizes and counts below their least are refused by
the option's name (``--tile-size 0`` quietly used the model's smallest tiles, about 5x slower;
``--workers -1`` gave torch's wording)."""

from __future__ import annotations

import pytest
import torch

from tests.e2e.test_train_cli import TINY, binary_workspace
from unet_desktop.cli import main
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

torch.set_num_threads(1)


@pytest.fixture
def binary_model(tmp_path):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id())
    path = tmp_path / "binary.safetensors"
    save_model(path, build_model(meta.arch), meta)
    return path


def _refused(argv: list[str], capsys) -> str:
    """The last line on stderr of a command that exits 2 (by argparse or by the command)."""
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


def test_exclude_that_leaves_out_every_labelled_image_says_so(tmp_path, binary_model, capsys):
    ws = binary_workspace(tmp_path / "ws", n=3)
    said = _refused(["evaluate", str(ws), "--model", str(binary_model), "--device", "cpu",
                     "--exclude", "*.png"], capsys)
    assert "--exclude *.png left out all 3 labelled images" in said
    assert "no masks" not in said


def test_a_mistyped_command_is_named(tmp_path, capsys):
    ws = binary_workspace(tmp_path / "ws", n=1)
    said = _refused(["trian", str(ws), "--out", str(tmp_path / "m.safetensors")], capsys)
    assert "'trian' is not a command; did you mean 'train'?" in said
    said = _refused([str(ws), "--out", "x"], capsys)  # a folder: the window's arguments
    assert "unrecognized arguments: --out x" in said


@pytest.mark.parametrize("size", ["0", "-5"])
def test_predict_refuses_a_tile_size_below_one(tmp_path, binary_model, capsys, size):
    ws = binary_workspace(tmp_path / "ws", n=1)
    said = _refused(["predict", str(ws / "images"), "--out", str(tmp_path / "out"),
                     "--model", str(binary_model), "--mode", "tile", f"--tile-size={size}"],
                    capsys)
    assert f"argument --tile-size: must be at least 1, got {size}" in said
    assert not (tmp_path / "out").exists()


def test_predict_refuses_tiles_smaller_than_the_models_size_step(tmp_path, binary_model,
                                                                 capsys):
    step = build_model(unet_arch(3, 2, depth=2, base=4)).size_multiple
    assert step > 1
    ws = binary_workspace(tmp_path / "ws", n=1)
    said = _refused(["predict", str(ws / "images"), "--out", str(tmp_path / "out"),
                     "--model", str(binary_model), "--device", "cpu", "--mode", "tile",
                     "--tile-size", str(step - 1)], capsys)
    assert f"tiles must be at least {step} px" in said


def test_train_refuses_a_negative_worker_count_by_the_options_name(tmp_path, capsys):
    ws = binary_workspace(tmp_path / "ws", n=2)
    assert TINY[-2:] == ["--workers", "0"]
    options = TINY[:-2]
    said = _refused(["train", str(ws), "--out", str(tmp_path / "m.safetensors"), *options,
                     "--workers", "-1"], capsys)
    assert "argument --workers: must be at least 0, got -1" in said
    assert not (tmp_path / "m.safetensors").exists()
