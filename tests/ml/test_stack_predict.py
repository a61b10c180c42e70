"""Stacks through batch prediction: a multi-page TIFF in gives a page-aligned mask stack out."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_desktop.core.stacks import read_mask_stack_header
from unet_desktop.core.workspace import ImageState, Workspace
from unet_desktop.ml.batch_predict import batch_predict
from unet_desktop.ml.predictor import Predictor


@pytest.fixture
def predictor(tiny_binary_model_file):
    return Predictor.from_file(tiny_binary_model_file, device="cpu", batch_size=2)


def _volume(pages: int) -> np.ndarray:
    return np.random.default_rng(pages).integers(0, 255, (pages, 24, 28), dtype=np.uint8)


def _run(*args, **kw):
    *_, last = batch_predict(*args, **kw)
    return last


def test_predict_a_stack_file_writes_its_mask_stack_slice_by_slice(tmp_path, predictor):
    volume = _volume(7)
    tifffile.imwrite(tmp_path / "volume.tif", volume)
    last = _run(predictor, tmp_path / "volume.tif", tmp_path / "out")
    assert (last.total, last.predicted, last.failed) == (7, 7, 0)
    masks = tifffile.imread(tmp_path / "out/volume.tif")
    assert masks.shape == (7, 24, 28)
    for i in (0, 3, 6):  # each page is the prediction of its own slice
        expected = predictor.predict(volume[i], probs=False).labels
        np.testing.assert_array_equal(masks[i], expected)
    again = _run(predictor, tmp_path / "volume.tif", tmp_path / "out")
    assert again.skipped == 7 and again.predicted == 0  # resumes by the stack's record


def test_predict_a_stack_in_a_workspace_keeps_a_corrected_slice(tmp_path, predictor):
    tifffile.imwrite(tmp_path / "volume.tif", _volume(5))
    ws = Workspace.open(tmp_path)
    mine = np.zeros((24, 28), np.uint8)
    mine[:5] = 255
    ws.save_mask("volume.tif [2/5]", mine, ImageState.CORRECTED)
    last = _run(predictor, ws)
    assert (last.predicted, last.skipped) == (4, 1)
    again = Workspace.open(tmp_path)
    assert [e.state for e in again] == [ImageState.PREDICTED, ImageState.CORRECTED] + [
        ImageState.PREDICTED] * 3
    np.testing.assert_array_equal(again.load_mask("volume.tif [2/5]"), mine)
    header = read_mask_stack_header(tmp_path / "masks/volume.tif")
    assert header.pages == 5 and not header.unlabeled
