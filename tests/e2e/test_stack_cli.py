"""The ISBI 2012 volume as a stack: train on images/volume.tif + masks/volume.tif and predict the
stack from the command line, as the README says (the 20 slices of ../shared/data/isbi2012)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.ml.models.modelfile import read_meta

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_train_and_predict_the_isbi_stack(shared_data, tmp_path, capsys):
    isbi = shared_data / "isbi2012"
    volume = np.stack([np.array(Image.open(p)) for p in sorted((isbi / "images").glob("*.png"))])
    labels = np.stack([np.array(Image.open(p)) for p in sorted((isbi / "masks").glob("*.png"))])
    (tmp_path / "isbi/images").mkdir(parents=True)
    (tmp_path / "isbi/masks").mkdir()
    tifffile.imwrite(tmp_path / "isbi/images/volume.tif", volume)  # as train-volume.tif
    tifffile.imwrite(tmp_path / "isbi/masks/volume.tif", labels)  # as train-labels.tif
    model = tmp_path / "isbi.safetensors"
    assert main(["train", str(tmp_path / "isbi"), "--out", str(model), "--arch", "unet",
                 "--base", "4", "--depth", "2", "--size", "64", "--epochs", "1",
                 "--device", "cpu", "--workers", "0"]) == 0
    meta = read_meta(model)
    assert meta.data_summary["images"] == len(volume)  # every slice with its label page
    assert meta.input_rule == {"kind": "data-range"}
    assert main(["predict", str(tmp_path / "isbi/images/volume.tif"), "--out",
                 str(tmp_path / "pred"), "--model", str(model), "--device", "cpu"]) == 0
    assert f"{len(volume)} predicted" in capsys.readouterr().out
    predicted = tifffile.imread(tmp_path / "pred/volume.tif")
    assert predicted.shape == volume.shape and predicted.dtype == np.uint8
    assert set(np.unique(predicted)) <= {0, 255}
