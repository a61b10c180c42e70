"""A damaged model file (weights that overflow: a bad copy, safetensors has no checksum) is
not used silently: its NaN output would otherwise become a mask of class 0 everywhere."""

import numpy as np
import pytest
from PIL import Image

from unet_desktop.cli import main
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import load_model_file, save_model

IMAGE = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)


@pytest.fixture
def damaged(model_file_factory):
    """A model whose weights are all finite but so large that its activations overflow."""
    path, _ = model_file_factory(trimap_scheme(), name="damaged.safetensors")
    model, meta = load_model_file(path)
    for name, tensor in model.state_dict().items():
        if name.endswith("weight") and tensor.ndim == 4:
            tensor.mul_(1e20)
    save_model(path, model, meta)
    return path


@pytest.mark.parametrize(("mode", "tta"), [("resize", False), ("tile", False), ("resize", True)])
@pytest.mark.parametrize("engine", ["torch", "auto"])
def test_a_model_whose_output_is_not_a_number_is_refused(damaged, mode, tta, engine):
    predictor = Predictor.from_file(damaged, device="cpu", mode=mode, tta=tta, engine=engine,
                                    tile_size=32)
    with pytest.raises(ValueError, match="output is not a number: its file may be damaged") \
            as raised:
        predictor.predict(IMAGE)
    assert str(damaged) in str(raised.value)


def test_a_model_made_in_memory_is_named_by_its_version(damaged):
    model, meta = load_model_file(damaged)
    with pytest.raises(ValueError, match=f"version {meta.version}"):
        Predictor(model, meta, "cpu", engine="torch").predict(IMAGE)


def test_predict_with_a_damaged_model_fails_and_names_it(damaged, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    Image.fromarray(IMAGE).save(tmp_path / "in" / "a.png")
    out = tmp_path / "out"
    code = main(["predict", str(tmp_path / "in"), "--out", str(out), "--model", str(damaged),
                 "--device", "cpu"])
    assert code != 0
    assert "not a number" in capsys.readouterr().err
    assert not list(out.glob("*.png"))  # no all-background mask written
