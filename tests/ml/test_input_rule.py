"""A model's input rule: recorded in its file, applied to every image whatever the bit depth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.imageio import read_image, read_image_raw
from unet_desktop.core.io.input_rule import (
    InputRule,
    data_range_uint8,
    fixed_range,
    percentile_uint8,
)
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
    # made before rules, given the data-range rule of new models since (a 12-bit image was
    # divided by 65535: tests/e2e/test_shipped_models_wide_data.py): 8-bit and full 16-bit
    # images are seen as before
    assert meta.rule.kind == "data-range" and meta.rule.bits is None
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
    # recorded in the file: the 12-bit images' range fixed by the model
    assert [read_meta(m).input_rule for m in models] == [{"kind": "data-range"},
                                                         {"kind": "data-range", "bits": 12}]
    for model in models:
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


def test_a_models_range_scales_a_dim_image_as_its_neighbours_not_by_its_own_peak():
    fixed, per_image = InputRule("data-range", bits=12), InputRule("data-range")
    dim = np.array([[0, 900]], np.uint16)  # a 12-bit image whose brightest pixel is 900
    assert fixed.apply(dim).tolist() == [[0, 56]]  # 900 * 255 / 4095
    assert per_image.apply(dim).tolist() == [[0, 224]]  # by 1023: 4x brighter (files before)
    assert InputRule("data-range", bits=10).apply(np.array([[0, 4095]], np.uint16)).tolist() \
        == [[0, 255]]  # beyond the model's range: saturated
    assert "4095" in fixed.describe() and InputRule.from_dict(fixed.to_dict()) == fixed
    with pytest.raises(ValueError, match="data-range"):
        InputRule("percentile", bits=12)


def test_a_new_models_range_holds_every_training_image():
    rule = InputRule("data-range")
    eight = np.full((4, 4), 200, np.uint8)
    dim, bright = np.full((4, 4), 900, np.uint16), np.full((4, 4), 3000, np.uint16)
    assert fixed_range(rule, [dim, eight, bright]).bits == 12
    assert fixed_range(rule, [dim]).bits == 10
    assert fixed_range(rule, [eight]) == rule  # nothing to range: each image as before
    assert fixed_range(rule, [np.full((4, 4), 0.5, np.float32)]) == rule
    percentile = InputRule("percentile")
    assert fixed_range(percentile, [bright]) == percentile
    two = np.stack([np.full((4, 4), 60000), np.full((4, 4), 3000)], axis=-1).astype(np.uint16)
    assert fixed_range(InputRule("data-range", channels=(1,)), [two]).bits == 12  # its channel
    assert fixed_range(rule, [two]) == rule  # two channels do not fit: training says so


def test_trained_on_12_bit_images_one_of_them_dim_the_model_scales_all_by_4095(tmp_path):
    root = _write_folder(tmp_path / "twelve", twelve_bit=True)
    image, _ = _scene(0)  # a dim exposure of the first: brightest pixel below 1024
    dim = np.rint(image.astype(np.float64) * 1000 / 255).astype(np.uint16)
    tifffile.imwrite(root / "images/im00.tif", dim)
    model = _train(root, tmp_path / "model.safetensors")
    meta = read_meta(model)
    assert meta.input_rule == {"kind": "data-range", "bits": 12}
    predictor = Predictor.from_file(model, device="cpu", engine="torch")
    as_stored = predictor.predict(dim, probs=True).probs
    by_4095 = predictor.predict(data_range_uint8(dim, 12), probs=True).probs
    by_1023 = predictor.predict(data_range_uint8(dim), probs=True).probs  # its own peak
    np.testing.assert_allclose(as_stored, by_4095, atol=1e-6)
    assert np.abs(as_stored - by_1023).max() > 1e-3


def test_float_images_stretch_from_the_training_images_range_not_each_their_own():
    rule = InputRule("data-range")
    dim = np.full((4, 4), 500.0, np.float32)
    dim[0, 0] = 0.0
    bright = np.linspace(0.0, 2000.0, 16, dtype=np.float32).reshape(4, 4)
    fixed = fixed_range(rule, [dim, bright])
    assert fixed.span == (0.0, 2000.0) and fixed.bits is None
    assert fixed.apply(dim)[1, 1] == 64  # 500 of 0..2000, not 255 (its own range: 0..500)
    assert rule.apply(dim)[1, 1] == 255  # files before: each image stretched alone
    with_nan = dim.copy()
    with_nan[2, 2], with_nan[3, 3] = np.nan, 9000.0
    assert fixed.apply(with_nan)[2, 2] == 0 and fixed.apply(with_nan)[3, 3] == 255
    assert fixed_range(rule, [np.full((4, 4), 0.5, np.float32)]) == rule  # [0, 1]: by 1
    assert InputRule.from_dict(fixed.to_dict()) == fixed and "2000" in fixed.describe()
    with pytest.raises(ValueError, match="span"):
        InputRule("data-range", span=(5.0, 5.0))


def test_trained_on_float_images_the_model_records_their_span(tmp_path):
    root = _write_folder(tmp_path / "floats", twelve_bit=False)
    for path in sorted((root / "images").glob("*.tif")):
        gain = 2.0 if path.stem == "im00" else 8.0  # one dim exposure
        tifffile.imwrite(path, tifffile.imread(path).astype(np.float32) * gain)
    model = _train(root, tmp_path / "model.safetensors")
    rule = read_meta(model).rule
    assert rule.bits is None and rule.span is not None and rule.span[0] >= 0.0
    assert rule.span[1] == max(float(tifffile.imread(p).max())
                               for p in (root / "images").glob("*.tif"))
    dim = tifffile.imread(root / "images/im00.tif")
    predictor = Predictor.from_file(model, device="cpu", engine="torch")
    np.testing.assert_allclose(predictor.predict(dim, probs=True).probs,
                               predictor.predict(data_range_uint8(dim, span=rule.span),
                                                 probs=True).probs, atol=1e-6)
