"""A mask that a batch run wrote into an output folder and the user then corrected in another
program is the user's: the next run (another model) keeps it and says why, unless overwrite."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch

from tests.ml.test_batch_predict import run, write_images
from unet_desktop.core.io.maskio import read_mask, write_mask
from unet_desktop.core.io.stacks import write_mask_stack
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.inference.predictor import Predictor

torch.set_num_threads(1)


@pytest.fixture
def two_predictors(model_file_factory):
    """Two models of the same classes, as after a retraining (their versions differ)."""
    first, _ = model_file_factory(trimap_scheme(), seed=0, name="first.safetensors")
    second, _ = model_file_factory(trimap_scheme(), seed=1, name="second.safetensors")
    old, new = (Predictor.from_file(p, device="cpu", batch_size=2) for p in (first, second))
    assert old.meta.version != new.meta.version
    return old, new


def test_a_mask_corrected_after_it_was_written_is_kept_by_the_next_model(tmp_path,
                                                                        two_predictors):
    old, new = two_predictors
    write_images(tmp_path / "in", 3)
    out = tmp_path / "out"
    run(old, tmp_path / "in", out)
    correction = np.full((30, 40), 1, np.uint8)
    correction[5:15, 5:25] = 3
    write_mask(out / "img_01.png", correction, trimap_scheme())  # edited in another program

    last, results = run(new, tmp_path / "in", out)  # the other two: the earlier model's, kept
    assert (last.predicted, last.skipped) == (0, 3)
    assert "predicted by another model version" in results["img_00.png"].reason
    reason = results["img_01.png"].reason
    assert "img_01.png" in reason and "changed after unet-desktop wrote it" in reason
    np.testing.assert_array_equal(read_mask(out / "img_01.png", trimap_scheme()), correction)

    last, results = run(new, tmp_path / "in", out)  # still the user's on a later run
    assert "changed after" in results["img_01.png"].reason

    last, _ = run(new, tmp_path / "in", out, overwrite=True)
    assert last.predicted == 3
    assert not np.array_equal(read_mask(out / "img_01.png", trimap_scheme()), correction)
    last, results = run(old, tmp_path / "in", out)  # written again: unet-desktop's once more
    assert last.skipped == 3
    assert all("predicted by another model version" in r.reason for r in results.values())


def test_a_mask_stack_corrected_after_it_was_written_is_kept(tmp_path, two_predictors):
    old, new = two_predictors
    volume = np.random.default_rng(0).integers(0, 255, (3, 30, 40, 3), dtype=np.uint8)
    tifffile.imwrite(tmp_path / "vol.tif", volume, photometric="rgb")
    out = tmp_path / "out"
    first = run(old, tmp_path / "vol.tif", out)[0]
    assert first.predicted == 3
    stack = tifffile.imread(out / "vol.tif")
    corrected = np.full((30, 40), 1, np.uint8)
    corrected[5:15, 5:25] = 3
    assert not np.array_equal(stack[1], corrected)
    stack[1] = corrected  # a page corrected in Fiji
    write_mask_stack(out / "vol.tif", list(stack), trimap_scheme())
    edited = (out / "vol.tif").read_bytes()

    last, results = run(new, tmp_path / "vol.tif", out)
    assert (last.predicted, last.skipped) == (0, 3)
    assert all("changed after unet-desktop wrote it" in r.reason for r in results.values())
    assert (out / "vol.tif").read_bytes() == edited
