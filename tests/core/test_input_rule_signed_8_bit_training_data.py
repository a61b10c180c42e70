"""Signed 8-bit TIFFs (values -128..127, read as stored) beside 16-bit images in one training
folder: a new model fixed its range from the images its headers said were wider than 8 bits
only, so its rule (12 bits here) did not hold the int8 images' values below 0; training left
them out as beyond the range and prediction fed them saturated black. Now the images whose
type the data-range rule ranges (all but uint8 and boolean) fix the range, int8 ones too."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.training.train_start import wide_images


def _object(dtype, background: int, bright: int) -> np.ndarray:
    image = np.full((32, 32), background, dtype)
    image[8:24, 8:24] = bright
    return image


SIXTEEN_BIT = _object(np.uint16, 100, 3000)  # 12-bit data
SIGNED_8_BIT = _object(np.int8, -100, 100)  # background below 0


@pytest.mark.usefixtures("one_torch_thread")
def test_a_new_models_range_holds_its_int8_training_images(tmp_path, capsys):
    root = tmp_path / "ws"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    mask = _object(np.uint8, 0, 255)
    for name, image in (("wide", SIXTEEN_BIT), ("signed", SIGNED_8_BIT)):
        tifffile.imwrite(root / f"images/{name}.tif", image)
        Image.fromarray(mask).save(root / f"masks/{name}.png")
    out = tmp_path / "new.safetensors"
    assert main(["train", str(root), "--out", str(out), "--max-steps", "2", "--size", "32",
                 "--arch", "unet", "--base", "4", "--depth", "2", "--batch-size", "2",
                 "--val-fraction", "0", "--workers", "0", "--input-rule", "data-range"]) == 0
    err = capsys.readouterr().err
    assert "skipped" not in err and "beyond" not in err, err
    rule = read_meta(out).rule
    assert rule.span is not None and rule.span[0] == -100 and rule.bits is None
    assert rule.beyond_range(SIGNED_8_BIT) is None and rule.beyond_range(SIXTEEN_BIT) is None
    fed = rule.apply(SIGNED_8_BIT).astype(int)
    assert fed[16, 16] > fed[0, 0]  # the object above the background, not both black


def test_the_slices_of_an_int8_stack_fix_the_range_too(tmp_path):
    tifffile.imwrite(tmp_path / "z.tif", np.stack([SIGNED_8_BIT, SIGNED_8_BIT]))
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(tmp_path / "plain.png")
    ws = Workspace.open(tmp_path)
    ranged = list(wide_images(ws, list(ws)))
    assert [image.dtype for image in ranged] == [np.int8, np.int8]  # the 8-bit png passed over
