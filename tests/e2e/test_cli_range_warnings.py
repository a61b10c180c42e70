"""predict and evaluate with a model fixed to 12-bit data say, once per file and naming it,
when an image's values fall outside that range (an int16 image with negative values, here a
stack whose every slice has them), and say nothing of the same values within the range stored
as int16 or float32: such images were stretched by their own range without a word."""

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
def twelve_bit_model(tmp_path):
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(1, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5], "std": [0.25]}, train_size=32,
                     version=new_version_id(), input_rule={"kind": "data-range", "bits": 12})
    path = tmp_path / "m12.safetensors"
    save_model(path, build_model(meta.arch), meta)
    return path


@pytest.fixture
def folder(tmp_path):
    """within.tif (int16, 0..3000), copy.tif (float32, the same values) and offset.tif (an
    int16 stack of 2 slices, each with pixels below 0), each with its mask."""
    root = tmp_path / "ws"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    values = np.random.default_rng(0).integers(0, 3000, (32, 32))
    mask = np.where(values > 1500, 255, 0).astype(np.uint8)
    tifffile.imwrite(root / "images/within.tif", values.astype(np.int16))
    tifffile.imwrite(root / "images/copy.tif", values.astype(np.float32))
    tifffile.imwrite(root / "images/offset.tif", np.stack([values - 100] * 2).astype(np.int16))
    for stem in ("within", "copy"):
        Image.fromarray(mask).save(root / f"masks/{stem}.png")
    tifffile.imwrite(root / "masks/offset.tif", np.stack([mask] * 2))
    return root


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if "12-bit range" in line]


def test_predict_warns_once_for_the_file_beyond_the_range(twelve_bit_model, folder, tmp_path,
                                                          capsys):
    assert main(["predict", str(folder / "images"), "--model", str(twelve_bit_model),
                 "--out", str(tmp_path / "out"), "--device", "cpu"]) == 0
    said = _warnings(capsys.readouterr().err)
    assert len(said) == 1, said
    assert "offset.tif: predicted, but its values span -100 to" in said[0]
    assert "(int16), beyond the 12-bit range (0-4095)" in said[0] and "read as black" in said[0]


def test_evaluate_warns_once_for_the_file_beyond_the_range(twelve_bit_model, folder, capsys):
    assert main(["evaluate", str(folder), "--model", str(twelve_bit_model),
                 "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert "on 4 images" in captured.out
    said = _warnings(captured.err)
    assert len(said) == 1, said
    assert "warning: offset.tif: scored, but its values span -100 to" in said[0]
