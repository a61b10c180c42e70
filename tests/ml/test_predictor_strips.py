"""Resize-mode prediction upsamples the logits and reduces them in row strips into the outputs
(a whole C x H x W float32 array took gigabytes for an 8000 x 8000 image): the labels are the
same as the whole-array path's, the upsampled logits, probabilities and uncertainty the same to
within the last bits in which torch's own kernels differ between thread counts."""

from __future__ import annotations

import platform

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.ml.inference import predictor as predictor_module
from unet_desktop.ml.inference.predictor import (
    Predictor,
    _resize,
    argmax_classes,
    entropy,
    resize_shape,
)
from unet_desktop.ml.models.modelfile import load_model_file


def _whole(logits, size):
    return F.interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]


@pytest.mark.parametrize("low, size", [
    ((3, 32, 32), (400, 400)), ((3, 32, 48), (301, 457)), ((2, 17, 5), (700, 99)),
    ((4, 40, 30), (40, 500)), ((3, 2, 2), (9, 1000)), ((1, 1, 11), (569, 454)),
    ((3, 48, 32), (30, 20)), ((3, 48, 32), (60, 20)), ((3, 20, 20), (20, 20))])
@pytest.mark.parametrize("threads", [1, 2])
def test_strips_equal_the_whole_interpolation(low, size, threads):
    logits = torch.randn(*low, generator=torch.Generator().manual_seed(sum(size))) * 4
    before = torch.get_num_threads()
    torch.set_num_threads(threads)  # torch's kernel rounds differently on one thread
    try:
        want = _whole(logits, size)
        got = list(predictor_module.upsampled_strips(logits, size, strip_pixels=997))
    finally:
        torch.set_num_threads(before)
    assert [top for top, _ in got] == sorted(top for top, _ in got)
    strips = torch.cat([strip for _, strip in got], 1)
    torch.testing.assert_close(strips, want, rtol=0, atol=1e-5)
    if threads > 1 and platform.machine() in ("x86_64", "AMD64"):
        assert torch.equal(strips, want)  # torch's several-thread x86 kernel, to the bit


def test_strips_are_strips_when_upsampling():
    logits = torch.randn(3, 32, 32)
    heights = [strip.shape[1] for _, strip in predictor_module.upsampled_strips(logits, (640, 500), 10_000)]
    assert sum(heights) == 640 and max(heights) == 20


def _old_predict(predictor, image, want_probs):
    """The whole-array resize path as it was: upsample all logits, then reduce."""
    inputs = predictor_module.as_model_channels(predictor.meta.rule.apply(image),
                                                predictor.meta.in_channels)
    resized = _resize(inputs, resize_shape(*inputs.shape[:2], predictor.meta.train_size))
    with torch.inference_mode():
        logits = predictor.scores(resized[None])
        full = logits if logits.shape[-2:] == image.shape[:2] else _whole(logits[0],
                                                                         image.shape[:2])[None]
        full = full[0].contiguous()
        probs = full.softmax(0)
        unc = entropy(probs)
        labels = predictor.meta.scheme.to_stored(argmax_classes(full).numpy())
        return labels, probs.numpy() if want_probs else None, unc.numpy(), float(unc.mean())


@pytest.mark.parametrize("scheme", [binary_scheme(), trimap_scheme(), multiclass_scheme(5)])
@pytest.mark.parametrize("shape", [(150, 130), (97, 250, 3), (32, 32), (20, 28)])
def test_resize_predictions_are_the_same_as_the_whole_array_path(
        model_file_factory, monkeypatch, scheme, shape):
    monkeypatch.setattr(predictor_module, "_STRIP_PIXELS", 1000)  # many strips
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the kernel the strips reproduce to the bit
    try:
        _compare_with_the_whole_array_path(model_file_factory, scheme, shape)
    finally:
        torch.set_num_threads(before)


def _compare_with_the_whole_array_path(model_file_factory, scheme, shape):
    path, _ = model_file_factory(scheme, in_channels=3)
    model, meta = load_model_file(path, map_location="cpu")
    predictor = Predictor(model, meta, "cpu", engine="torch", channels_last=False)
    image = np.random.default_rng(len(shape)).integers(0, 256, shape, dtype=np.uint8)
    for want_probs in (False, True):
        got = predictor.predict(image, probs=want_probs)
        labels, probs, unc, score = _old_predict(predictor, image, want_probs)
        assert np.array_equal(got.labels, labels)  # the same logits: the same classes
        # softmax and entropy round a value's last bit differently where torch's vector loop
        # hands it to its scalar tail, which depends on the array's length (and on the number
        # of threads, for the whole array as well): equal to within that
        assert got.uncertainty.dtype == np.float32
        np.testing.assert_allclose(got.uncertainty, unc, rtol=0, atol=1e-6)
        assert got.score == pytest.approx(score, abs=1e-6)
        assert (got.probs is None) == (probs is None)
        if probs is not None:
            np.testing.assert_allclose(got.probs, probs, rtol=0, atol=1e-6)


def test_no_full_size_logits_are_made_for_a_large_image(tiny_model_file, monkeypatch):
    made: list[tuple[int, ...]] = []
    interpolate = F.interpolate

    def recording(x, *args, **kwargs):
        out = interpolate(x, *args, **kwargs)
        made.append(tuple(out.shape))
        return out

    monkeypatch.setattr(predictor_module.F, "interpolate", recording)
    predictor = Predictor.from_file(tiny_model_file, "cpu", engine="torch")
    height, width = 600, 400
    prediction = predictor.predict(np.zeros((height, width, 3), np.uint8), probs=False)
    assert prediction.labels.shape == (height, width) and prediction.probs is None
    classes = predictor.num_classes
    assert made and all(np.prod(shape) < classes * height * width / 4 for shape in made), made
