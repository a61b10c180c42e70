"""Stacks through batch prediction: a multi-page TIFF in gives a page-aligned mask stack out."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tifffile
from PIL import Image

from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.stacks import read_mask_stack_header
from unet_desktop.ml.inference.batch_predict import batch_predict
from unet_desktop.ml.inference.predictor import Predictor


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
    volume = _volume(5)
    tifffile.imwrite(tmp_path / "volume.tif", volume)
    ws = Workspace.open(tmp_path)
    mine = np.zeros((24, 28), np.uint8)
    mine[:5] = 255
    ws.save_mask("volume.tif [2 of 5]", mine, ImageState.CORRECTED)
    fed = []
    predict_batch = predictor.predict_batch
    predictor.predict_batch = lambda images, **kw: fed.extend(images) or predict_batch(images, **kw)
    last = _run(predictor, ws)
    assert sorted(next(i for i in range(5) if np.array_equal(im, volume[i])) for im in fed) \
        == [0, 2, 3, 4]  # each slice fed once, by its own pixels
    assert (last.predicted, last.skipped) == (4, 1)
    again = Workspace.open(tmp_path)
    assert [e.state for e in again] == [ImageState.PREDICTED, ImageState.CORRECTED] + [
        ImageState.PREDICTED] * 3
    np.testing.assert_array_equal(again.load_mask("volume.tif [2 of 5]"), mine)
    header = read_mask_stack_header(tmp_path / "masks/volume.tif")
    assert header.pages == 5 and not header.unlabeled


def test_channels_feed_the_model_as_chosen_and_misfits_fail_alone(tmp_path,
                                                                 model_file_factory):
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.ml.models.modelfile import load_model_file

    two = np.random.default_rng(1).integers(0, 4095, (24, 28, 2), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "two.tif", two, photometric="minisblack",
                     planarconfig="contig")
    tifffile.imwrite(tmp_path / "gray.tif", two[..., 0])
    path, _ = model_file_factory(binary_scheme(), in_channels=1)
    model, meta = load_model_file(path)
    meta.input_rule = {"kind": "data-range", "channels": [1]}  # the second channel
    chosen = Predictor(model, meta, "cpu")
    last = _run(chosen, [tmp_path / "two.tif", tmp_path / "gray.tif"], tmp_path / "out")
    assert (last.predicted, last.failed) == (1, 1)  # gray.tif has no second channel
    gray_meta = dataclasses.replace(meta, input_rule={"kind": "data-range"})
    second = Predictor(model, gray_meta, "cpu").predict(two[..., 1].copy(), probs=False)
    np.testing.assert_array_equal(np.array(Image.open(tmp_path / "out/two.png")),
                                  second.labels)
    plain = Predictor.from_file(path, device="cpu")  # no choice: 2 channels do not fit
    *_, report = batch_predict(plain, [tmp_path / "two.tif"], tmp_path / "out2")
    assert report.failed == 1


def test_a_task_lists_images_whose_channels_do_not_fit_as_skipped(tmp_path):
    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.labels import binary_scheme

    two = np.zeros((16, 16, 2), np.uint16)
    tifffile.imwrite(tmp_path / "two.tif", two, photometric="minisblack", planarconfig="contig")
    tifffile.imwrite(tmp_path / "gray.tif", two[..., 0])
    save_task(tmp_path, Task("cells", binary_scheme(), input_rule={"kind": "data-range",
                                                                   "channels": [1]}))
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["two.tif"]
    (path, reason), = ws.skipped
    assert path.name == "gray.tif" and "has 1 channel(s)" in reason and "channels 2" in reason
