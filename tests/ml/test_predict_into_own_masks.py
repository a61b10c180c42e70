"""``predict DATA/images --out DATA/masks`` (the README's form, input the images' subfolder) is
refused as ``predict DATA --out DATA/masks`` is: the folder would read the predictions back as
the user's corrected masks, which train learns and evaluate scores against."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from unet_desktop.ml.inference.batch_job import BatchSettings, batch_predictor, run_batch

torch.set_num_threads(1)


def _dataset(root, masks=("masks",)):
    """``root/images`` with three images; the first has a mask in ``root/<masks...>``."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(
            root / "images" / f"img_{i}.png")
    mask_dir = root.joinpath(*masks)
    mask_dir.mkdir(parents=True)
    Image.fromarray(np.zeros((24, 32), np.uint8)).save(mask_dir / "img_0.png")
    return mask_dir


def _run(source, output, model, by_layout=False):
    settings = BatchSettings(source, model, output, device="cpu", by_layout=by_layout)
    return list(run_batch(settings, batch_predictor(settings)))[-1]


@pytest.mark.parametrize("source", ["images", "images/img_1.png", "."])
def test_the_images_subfolder_or_one_of_its_images_into_the_datasets_masks_is_refused(
        tmp_path, tiny_model_file, source):
    masks = _dataset(tmp_path / "data")
    with pytest.raises(ValueError, match="mask folder of the images' own folder"):
        _run(tmp_path / "data" / source, masks, tiny_model_file)
    assert sorted(p.name for p in masks.iterdir()) == ["img_0.png"]


def test_the_window_predicting_the_images_subfolder_into_the_datasets_masks_is_refused(
        tmp_path, tiny_model_file):
    """The window's batch run of a folder opened at ``DATA/images``."""
    masks = _dataset(tmp_path / "data")
    with pytest.raises(ValueError, match="mask folder of the images' own folder"):
        _run(tmp_path / "data" / "images", masks, tiny_model_file, by_layout=True)
    assert sorted(p.name for p in masks.iterdir()) == ["img_0.png"]


def test_the_oxford_layouts_trimap_folder_is_refused_too(tmp_path, tiny_model_file):
    trimaps = _dataset(tmp_path / "pets", ("annotations", "trimaps"))
    with pytest.raises(ValueError, match="mask folder of the images' own folder"):
        _run(tmp_path / "pets" / "images", trimaps, tiny_model_file)


def test_a_mask_folder_the_dataset_does_not_read_masks_from_is_an_output_folder(
        tmp_path, tiny_model_file):
    _dataset(tmp_path / "data")
    last = _run(tmp_path / "data" / "images", tmp_path / "data" / "predicted", tiny_model_file)
    assert (last.predicted, last.total) == (3, 3)
