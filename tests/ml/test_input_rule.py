"""A model's input rule: recorded in its file, applied to every image whatever the bit depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.imageio import read_image, read_image_raw
from unet_desktop.core.io.input_rule import InputRule, data_range_uint8, percentile_uint8
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import unet_arch
from unet_desktop.ml.models.modelfile import read_meta
from unet_desktop.ml.reports import FinalReport
from unet_desktop.ml.training.train import TrainConfig, train

SHIPPED = sorted((Path(__file__).resolve().parents[2] / "models").glob("*.safetensors"))
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _scene(seed: int, size: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """An 8-bit gray image with a bright disc, and its binary mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    cy, cx = rng.integers(10, size - 10, 2)
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 < rng.integers(5, 10) ** 2
    image = (rng.normal(50, 15, (size, size)) + disc * 150).clip(0, 255).astype(np.uint8)
    return image, np.where(disc, 255, 0).astype(np.uint8)


def _as_12_bit(image: np.ndarray) -> np.ndarray:
    """The same content as a 12-bit camera stores it: 0..4095 in 16-bit samples."""
    return np.rint(image.astype(np.float64) * 4095 / 255).astype(np.uint16)


@pytest.mark.parametrize("model_file", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_model_sees_its_images_exactly_as_before(model_file, tmp_path):
    meta = read_meta(model_file)
    assert meta.input_rule == {} and meta.rule.kind == "legacy"  # files made before rules
    rgb = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(rgb[..., 0]).save(tmp_path / "gray.png")
    Image.fromarray(rgb[..., 0].astype(np.uint16) * 200).save(tmp_path / "deep.png")  # I;16
    predictor = Predictor.from_file(model_file, device="cpu", engine="torch")
    for name in ("rgb.png", "gray.png", "deep.png"):
        # the old pipeline: read_image's uint8, fed as it is
        before = predictor.predict(read_image(tmp_path / name), probs=False).labels
        now = predictor.predict(read_image_raw(tmp_path / name), probs=False).labels
        np.testing.assert_array_equal(now, before)
    for image in (rgb, rgb[..., 0]):  # and 8-bit arrays are the model's input untouched
        assert meta.rule.apply(image) is not None
        np.testing.assert_array_equal(meta.rule.apply(image), image)


def test_data_range_scales_12_bit_by_4095_and_keeps_8_bit():
    image, _ = _scene(1)
    np.testing.assert_array_equal(data_range_uint8(_as_12_bit(image)), image)
    np.testing.assert_array_equal(data_range_uint8(image.astype(np.uint16)), image)  # <= 255
    assert data_range_uint8(np.array([[0, 4095]], np.uint16)).tolist() == [[0, 255]]
    assert data_range_uint8(np.array([[0, 65535]], np.uint16)).tolist() == [[0, 255]]
    assert data_range_uint8(np.array([[0, 1023]], np.uint16)).tolist() == [[0, 255]]  # 10-bit


def test_percentile_rule_maps_the_1st_and_99th_percentiles_to_0_and_255():
    values = np.arange(1000, dtype=np.uint16).reshape(20, 50) + 300
    out = percentile_uint8(values)
    lo, hi = np.percentile(values, (1, 99))
    assert out.min() == 0 and out.max() == 255
    assert (out[values <= lo] == 0).all() and (out[values >= hi] == 255).all()
    np.testing.assert_array_equal(percentile_uint8(values * 16), out)  # exposure-free


def _write_folder(root: Path, twelve_bit: bool, n: int = 10) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(n):
        image, mask = _scene(i)
        stored = _as_12_bit(image) if twelve_bit else image
        tifffile.imwrite(root / f"images/im{i:02d}.tif", stored)
        Image.fromarray(mask).save(root / f"masks/im{i:02d}.png")
    return root


def _train(root: Path, out: Path) -> Path:
    cfg = TrainConfig(out=out, arch=unet_arch(1, 2, base=4, depth=2), epochs=2, size=32,
                      batch_size=4, lr=1e-2, patience=None, device="cpu", seed=3)
    *_, final = train(Workspace.open(root, scheme=binary_scheme()), cfg)
    assert isinstance(final, FinalReport) and final.model_path == out
    return out


def test_the_same_image_at_8_and_12_bits_gives_the_same_prediction(tmp_path):
    eight = _write_folder(tmp_path / "eight", twelve_bit=False)
    twelve = _write_folder(tmp_path / "twelve", twelve_bit=True)
    models = [_train(eight, tmp_path / "from8.safetensors"),
              _train(twelve, tmp_path / "from12.safetensors")]
    test_image, _ = _scene(99)
    for model in models:
        meta = read_meta(model)
        assert meta.input_rule == {"kind": "data-range"}  # recorded in the file
        predictor = Predictor.from_file(model, device="cpu", engine="torch")
        at_8 = predictor.predict(test_image, probs=True)
        at_12 = predictor.predict(_as_12_bit(test_image), probs=True)
        np.testing.assert_array_equal(at_12.labels, at_8.labels)
        np.testing.assert_allclose(at_12.probs, at_8.probs, atol=1e-6)
    # trained on either, the models are the same model: their inputs were the same
    a, b = (Predictor.from_file(m, device="cpu", engine="torch").predict(test_image).probs
            for m in models)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_percentile_task_records_its_rule_and_channels(tmp_path):
    rule = InputRule("percentile", 2.0, 98.0, channels=(1,))
    assert InputRule.from_dict(rule.to_dict()) == rule
    two = np.stack([np.zeros((4, 4)), np.arange(16).reshape(4, 4)], axis=-1).astype(np.uint16)
    np.testing.assert_array_equal(rule.apply(two), percentile_uint8(two[..., 1], 2.0, 98.0))
    with pytest.raises(ValueError, match="one or three"):
        InputRule(channels=(0, 1))
