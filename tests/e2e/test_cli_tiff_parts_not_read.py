"""predict and evaluate read a TIFF as its first series, as the window does; what that leaves
out (the other positions of an OME-TIFF, a page of another size) is named on the command line,
file and part, as the window's folder warnings name it. It was left out without a word."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def model(tmp_path):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(1, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5], "std": [0.25]}, train_size=32,
                     version=new_version_id())
    path = tmp_path / "m.safetensors"
    save_model(path, build_model(meta.arch), meta)
    return path


def _two_position_ome(path) -> None:
    with tifffile.TiffWriter(path, ome=True) as writer:
        for position in range(2):
            writer.write(np.full((2, 32, 32), 7 + position, np.uint16), metadata={"axes": "ZYX"})


def _stack_with_an_odd_page(path) -> None:
    """3 pages as a writer without shape metadata writes them; page 2 of another size."""
    pages = [Image.fromarray(np.full(shape, 9, np.uint16)) for shape in
             [(32, 32), (16, 24), (32, 32)]]
    pages[0].save(path, save_all=True, append_images=pages[1:])


OME_NOTE = "warning: plate.ome.tif: only its first series (position 1 of 2) is read; " \
           "position 2 is not"
ODD_NOTE = "warning: odd.tif: page 2 of 3 is 24x16, not 32x32 like the others: not read"


def _predict(*args) -> int:
    return main(["predict", *map(str, args), "--device", "cpu"])


def test_predict_names_what_of_each_tiff_is_not_read(model, tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    _two_position_ome(folder / "plate.ome.tif")
    _stack_with_an_odd_page(folder / "odd.tif")
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(folder / "plain.png")
    assert _predict(folder, "--model", model, "--out", tmp_path / "out") == 0
    lines = capsys.readouterr().err.splitlines()
    assert OME_NOTE in lines and ODD_NOTE in lines
    assert not any("plain.png" in line for line in lines)

    assert _predict(folder / "plate.ome.tif", "--model", model, "--out", tmp_path / "one") == 0
    lines = capsys.readouterr().err.splitlines()
    assert OME_NOTE in lines and ODD_NOTE not in lines


def test_predict_of_a_workspace_names_them_too(model, tmp_path, capsys):
    (tmp_path / "ws/images").mkdir(parents=True)
    (tmp_path / "ws/masks").mkdir()
    _two_position_ome(tmp_path / "ws/images/plate.ome.tif")
    assert _predict(tmp_path / "ws", "--model", model, "--out", tmp_path / "out") == 0
    assert OME_NOTE in capsys.readouterr().err.splitlines()


def test_evaluate_names_them(model, tmp_path, capsys):
    (tmp_path / "ws/images").mkdir(parents=True)
    (tmp_path / "ws/masks").mkdir()
    _two_position_ome(tmp_path / "ws/images/plate.ome.tif")
    tifffile.imwrite(tmp_path / "ws/masks/plate.ome.tif", np.zeros((2, 32, 32), np.uint8))
    assert main(["evaluate", str(tmp_path / "ws"), "--model", str(model), "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert "on 2 images" in captured.out
    assert OME_NOTE in captured.err.splitlines()
