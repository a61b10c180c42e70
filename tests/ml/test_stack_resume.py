"""A second batch run into an output folder predicts exactly the slices a stack lacks (after a
cancel part-way through it, or once the image gained slices) and keeps the pages it has."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_desktop.core.io.stacks import read_mask_stack_header
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.batch_folder import UP_TO_DATE
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor


@pytest.fixture
def predictor(tiny_binary_model_file):
    return Predictor.from_file(tiny_binary_model_file, device="cpu", batch_size=1)


def _volume(pages: int) -> np.ndarray:
    """Slices that differ: slice k has a bright band at its own place."""
    volume = np.random.default_rng(0).integers(0, 40, (pages, 24, 28), dtype=np.uint8)
    for k in range(pages):
        volume[k, 2 * k: 2 * k + 4] = 230
    return volume


def _slices_fed(predictor: Predictor, volume: np.ndarray, after=None) -> list[int]:
    """Spy on the predictor: the slices of ``volume`` it is fed, in order; ``after(n)`` is
    called after its n-th batch."""
    fed: list[int] = []
    predict_batch = predictor.predict_batch

    def spy(images, **kw):
        fed.extend(next(i for i in range(len(volume)) if np.array_equal(im, volume[i]))
                   for im in images)
        result = predict_batch(images, **kw)
        if after:
            after(len(fed))
        return result

    predictor.predict_batch = spy
    return fed


def _run(*args, **kw):
    *_, last = batch_predict(*args, decode_workers=1, **kw)
    return last


def test_a_resume_after_a_cancel_predicts_only_the_missing_slices(tmp_path, predictor):
    volume = _volume(6)
    tifffile.imwrite(tmp_path / "vol.tif", volume)
    out = tmp_path / "out"
    cancel = CancelToken()
    _slices_fed(predictor, volume, after=lambda n: n == 2 and cancel.cancel())
    first = _run(predictor, tmp_path / "vol.tif", out, cancel=cancel)
    assert first.cancelled and first.predicted == 2
    assert read_mask_stack_header(out / "vol.tif").unlabeled == {2, 3, 4, 5}
    before = tifffile.imread(out / "vol.tif")

    fed = _slices_fed(predictor, volume)
    second = _run(predictor, tmp_path / "vol.tif", out)
    assert fed == [2, 3, 4, 5]
    assert (second.predicted, second.skipped) == (4, 2)
    header = read_mask_stack_header(out / "vol.tif")
    assert header.pages == 6 and not header.unlabeled
    masks = tifffile.imread(out / "vol.tif")
    np.testing.assert_array_equal(masks[:2], before[:2])  # the pages predicted before are kept
    for i in (2, 5):
        np.testing.assert_array_equal(masks[i], predictor.predict(volume[i], probs=False).labels)
    third = _run(predictor, tmp_path / "vol.tif", out)
    assert third.skipped == 6 and {r.reason for r in third.results} == {UP_TO_DATE}


def test_a_stack_that_gained_slices_gets_pages_for_the_new_ones(tmp_path, predictor):
    volume = _volume(7)
    tifffile.imwrite(tmp_path / "vol.tif", volume[:4], photometric="minisblack")
    out = tmp_path / "out"
    _run(predictor, tmp_path / "vol.tif", out)
    before = tifffile.imread(out / "vol.tif")
    tifffile.imwrite(tmp_path / "vol.tif", volume)  # the acquisition went on

    fed = _slices_fed(predictor, volume)
    second = _run(predictor, tmp_path / "vol.tif", out)
    assert fed == [4, 5, 6] and (second.predicted, second.skipped) == (3, 4)
    masks = tifffile.imread(out / "vol.tif")
    assert masks.shape == (7, 24, 28) and not read_mask_stack_header(out / "vol.tif").unlabeled
    np.testing.assert_array_equal(masks[:4], before)
    np.testing.assert_array_equal(masks[6], predictor.predict(volume[6], probs=False).labels)


def test_a_stack_longer_than_its_image_is_predicted_again(tmp_path, predictor):
    volume = _volume(5)
    tifffile.imwrite(tmp_path / "vol.tif", volume)
    out = tmp_path / "out"
    _run(predictor, tmp_path / "vol.tif", out)
    tifffile.imwrite(tmp_path / "vol.tif", volume[:3], photometric="minisblack")  # another image

    fed = _slices_fed(predictor, volume)
    _run(predictor, tmp_path / "vol.tif", out)
    assert fed == [0, 1, 2]
    assert read_mask_stack_header(out / "vol.tif").pages == 3
