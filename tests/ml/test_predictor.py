"""Predictor: shapes, stored values, probabilities, tiling, TTA, speed-ups, public API."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
import torch

import unet_desktop
from unet_desktop.core.errors import ImageReadError, ModelFileError
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.device import pick_device
from unet_desktop.ml.inference.predictor import Predictor, argmax_classes, resize_shape
from unet_desktop.ml.inference.tiling import ramp, tile_starts
from unet_desktop.ml.models.modelfile import load_model_file

torch.set_num_threads(1)


def smooth_image(height: int, width: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    image = cv2.GaussianBlur(image, (0, 0), 2).reshape(height, width, channels)
    return image[:, :, 0] if channels == 1 else image


@pytest.fixture
def sharp_model(model_file_factory):
    """A depth-3 trimap model whose head is scaled up so that predictions are confident."""
    path, _ = model_file_factory(trimap_scheme(), depth=3, base=4, seed=3)
    model, meta = load_model_file(path)
    features = []
    hook = model.head.register_forward_hook(lambda m, args, out: features.append(args[0]))
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64))
        hook.remove()
        f = features[0][0].flatten(1)  # channels x pixels entering the 1x1 head
        weight = model.head.weight[:, :, 0, 0] / f.std(1).clamp_min(1e-6)  # classes x channels
        logits = weight @ f
        weight *= 8.0 / logits.std(1, keepdim=True)  # logits of spread ~8: confident outputs
        model.head.weight.copy_(weight[:, :, None, None])
        model.head.bias.copy_(-(weight @ f).mean(1))  # every class wins somewhere
    return model, meta


@pytest.mark.parametrize("mode", ["resize", "tile"])
@pytest.mark.parametrize(("model_channels", "image_channels"), [(3, 3), (3, 1), (1, 3), (1, 1)])
def test_shapes_values_and_channel_conversion(model_file_factory, mode, model_channels,
                                              image_channels):
    scheme = binary_scheme() if model_channels == 1 else trimap_scheme()
    path, _ = model_file_factory(scheme, in_channels=model_channels)
    predictor = Predictor.from_file(path, device="cpu", mode=mode, tile_size=32, tile_overlap=8)
    image = smooth_image(45, 61, image_channels)
    pred = predictor.predict(image)
    assert pred.labels.shape == (45, 61) and pred.labels.dtype == np.uint8
    assert pred.probs.shape == (scheme.num_classes, 45, 61) and pred.probs.dtype == np.float32
    assert pred.uncertainty.shape == (45, 61) and pred.uncertainty.dtype == np.float32
    assert set(np.unique(pred.labels)) <= set(scheme.stored_values)
    np.testing.assert_allclose(pred.probs.sum(0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(pred.labels, scheme.to_stored(pred.probs.argmax(0)))
    assert 0.0 <= pred.uncertainty.min() and pred.uncertainty.max() <= 1.0
    assert pred.score == pytest.approx(float(pred.uncertainty.mean()), abs=1e-5)


def test_uncertainty_is_normalised_entropy(sharp_model):
    model, meta = sharp_model
    pred = Predictor(model, meta, "cpu").predict(smooth_image(32, 32))
    p = pred.probs.astype(np.float64)
    expected = -(p * np.log(np.clip(p, 1e-12, None))).sum(0) / np.log(3)
    np.testing.assert_allclose(pred.uncertainty, expected, atol=1e-4)
    assert pred.uncertainty.min() < 0.5  # the sharpened model is sure somewhere


def test_tiled_matches_whole_image_away_from_the_borders(sharp_model):
    model, meta = sharp_model
    image = smooth_image(300, 400, seed=1)
    whole = Predictor(model, meta, "cpu", mode="tile", tile_size=512).predict(image)
    tiled = Predictor(model, meta, "cpu", mode="tile", tile_size=128, tile_overlap=32,
                      batch_size=3).predict(image)
    assert tile_starts(400, 128, 32) == [0, 96, 192, 272]  # several tiles really were used
    inner = (slice(None), slice(16, -16), slice(16, -16))
    diff = np.abs(whole.probs - tiled.probs)[inner]
    assert diff.max() < 0.05 and diff.mean() < 1e-4
    assert (whole.labels == tiled.labels)[inner[1:]].mean() > 0.999
    assert len(np.unique(whole.labels)) > 1  # not a trivially constant prediction


def test_tiling_helpers():
    assert tile_starts(100, 128, 16) == [0]
    starts = tile_starts(1000, 256, 64)
    assert starts[0] == 0 and starts[-1] == 1000 - 256
    assert all(b - a <= 256 - 64 for a, b in itertools.pairwise(starts))
    w = ramp(64, 16)
    assert w.min() > 0 and w[32] == 1.0 and np.allclose(w, w[::-1])
    with pytest.raises(ValueError):
        tile_starts(10, 8, 8)


def test_resize_mode_runs_at_the_training_scale(sharp_model):
    model, meta = sharp_model  # train_size 32
    assert resize_shape(64, 128, 32) == (32, 64)
    assert resize_shape(10, 15, 32) == (32, 48)
    image = smooth_image(64, 96)
    resized = Predictor(model, meta, "cpu").predict(image)
    small = cv2.resize(image, (48, 32), interpolation=cv2.INTER_AREA)
    at_scale = Predictor(model, meta, "cpu", mode="tile").predict(small)
    back = cv2.resize(resized.labels, (48, 32), interpolation=cv2.INTER_NEAREST)
    assert (back == at_scale.labels).mean() > 0.9


def test_batch_equals_one_by_one(sharp_model):
    model, meta = sharp_model
    images = [smooth_image(40, 40, seed=s) for s in range(3)] + [smooth_image(30, 50, 1)]
    predictor = Predictor(model, meta, "cpu", batch_size=2)
    batch = predictor.predict_batch(images)
    for image, got in zip(images, batch):
        single = predictor.predict(image)
        np.testing.assert_allclose(got.probs, single.probs, atol=1e-5)


def test_speedups_keep_outputs(sharp_model):
    model, meta = sharp_model
    image = smooth_image(50, 70)
    plain = Predictor(model, meta, "cpu", fuse_bn=False, channels_last=False).predict(image)
    fast = Predictor(model, meta, "cpu").predict(image)
    np.testing.assert_allclose(fast.probs, plain.probs, atol=1e-4)
    assert (fast.labels == plain.labels).mean() > 0.999


def test_argmax_classes_matches_torch_including_ties():
    scores = torch.randint(0, 3, (4, 20, 30)).float()  # many ties
    np.testing.assert_array_equal(argmax_classes(scores).numpy(), scores.argmax(0).numpy())
    assert argmax_classes(torch.randn(1, 5, 5)).eq(0).all()


def test_bf16_on_cpu_is_opt_in_and_close(sharp_model):
    model, meta = sharp_model
    image = smooth_image(48, 48)
    fp32 = Predictor(model, meta, "cpu")
    bf16 = Predictor(model, meta, "cpu", amp=True)
    assert fp32.amp_dtype is None and bf16.amp_dtype == torch.bfloat16
    a, b = fp32.predict(image), bf16.predict(image)
    assert np.abs(a.probs - b.probs).max() < 0.2
    assert (a.labels == b.labels).mean() > 0.97


def test_tta_averages_flipped_predictions(sharp_model):
    model, meta = sharp_model
    image = smooth_image(40, 56)
    plain = Predictor(model, meta, "cpu", mode="tile")
    expected = (plain.predict(image).probs
                + plain.predict(image[:, ::-1].copy()).probs[:, :, ::-1]
                + plain.predict(image[::-1].copy()).probs[:, ::-1]) / 3
    got = Predictor(model, meta, "cpu", mode="tile", tta=True).predict(image).probs
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_public_api(tiny_model_file):
    model = unet_desktop.load_model(tiny_model_file, device="cpu")
    pred = model.predict(smooth_image(33, 20, 1))
    assert pred.labels.shape == (33, 20) and pred.probs.shape == (3, 33, 20)
    assert model.meta.scheme == trimap_scheme() and model.device.type == "cpu"
    # stored values of any type go through the model's input rule (legacy here: floats in
    # 0..1 scale by 255), so a float image predicts as its 8-bit version
    gray = smooth_image(16, 16, 1)
    as_float = model.predict(gray.astype(np.float32) / 255, probs=False).labels
    np.testing.assert_array_equal(as_float, model.predict(gray, probs=False).labels)
    with pytest.raises(ImageReadError, match="2 channels"):
        model.predict(np.zeros((8, 8, 2), np.uint8))
    no_probs = model.predict(smooth_image(16, 16), probs=False)
    assert no_probs.probs is None and no_probs.labels.shape == (16, 16)


def test_missing_default_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr("unet_desktop.ml.api.default_model_path",
                        lambda: tmp_path / "absent.safetensors")
    with pytest.raises(ModelFileError, match="absent.safetensors: the default model is not"):
        unet_desktop.load_model()


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else
                                        pick_device("auto").type)
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu-ish")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            pick_device("cuda")
