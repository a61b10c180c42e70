"""Copy-paste augmentation on generated samples: what is pasted, what is left alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unet_desktop.core.labels import IGNORE_INDEX, binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.ml.training.augment import AugmentOptions, val_transform
from unet_desktop.ml.training.copy_paste import CopyPaste, background_index
from unet_desktop.ml.training.dataset import Sample, SegmentationDataset

BACKGROUND = 1  # the trimap's background index


def sample(key: str, size: int = 40, square: tuple[int, int, int] | None = None,
           value: int = 200) -> Sample:
    """A trimap-index sample: background everywhere, and optionally a ``(top, left, side)``
    square object (index 0) ringed by one pixel of border (index 2), drawn in ``value``."""
    image = np.zeros((3, size, size), np.uint8)
    target = np.full((size, size), BACKGROUND, np.uint8)
    if square is not None:
        top, left, side = square
        target[top - 1:top + side + 1, left - 1:left + side + 1] = 2
        target[top:top + side, left:left + side] = 0
        image[:, top - 1:top + side + 1, left - 1:left + side + 1] = value
    return Sample(key, torch.from_numpy(image), torch.from_numpy(target))


def test_background_index_per_scheme():
    assert background_index(trimap_scheme()) == BACKGROUND
    assert background_index(binary_scheme()) == 0
    assert background_index(multiclass_scheme(4)) == 0


def test_pasted_objects_bring_their_pixels_and_labels():
    host = sample("host")
    donor = sample("donor", square=(10, 12, 8))
    paste = CopyPaste([host, donor], BACKGROUND, probability=1.0, scale=(0.5, 1.0))
    torch.manual_seed(0)
    for _ in range(20):
        image, target = paste(host.image, host.target)
        image, target = image.numpy(), target.numpy()
        pet, border = target == 0, target == 2
        side = np.sqrt(pet.sum())
        assert 4 - 1 <= side <= 8  # the 8 px square at a scale of 0.5 .. 1
        assert border.any() and (image[:, pet | border] == 200).all()
        assert (image[:, target == BACKGROUND] == 0).all()


def test_the_cached_sample_is_not_modified():
    host, donor = sample("host"), sample("donor", square=(5, 5, 20))
    before = host.image.clone(), host.target.clone()
    CopyPaste([donor], BACKGROUND, probability=1.0)(host.image, host.target)
    assert torch.equal(host.image, before[0]) and torch.equal(host.target, before[1])


def test_nothing_is_pasted_without_objects_or_at_probability_zero():
    host, donor = sample("host", square=(3, 3, 5)), sample("donor", square=(10, 10, 9))
    for paste in (CopyPaste([sample("empty")], BACKGROUND, probability=1.0),
                  CopyPaste([donor], BACKGROUND, probability=0.0)):
        image, target = paste(host.image, host.target)
        assert torch.equal(image, host.image) and torch.equal(target, host.target)
    with pytest.raises(ValueError, match="probability"):
        CopyPaste([donor], BACKGROUND, probability=1.5)


def test_unlabelled_donor_pixels_are_not_pasted():
    donor = sample("donor", square=(10, 10, 12))
    donor.target[14:18, 14:18] = IGNORE_INDEX  # a hole nobody labelled inside the object
    paste = CopyPaste([donor], BACKGROUND, probability=1.0, scale=(1.0, 1.0))
    torch.manual_seed(0)
    _, target = paste(sample("host").image, sample("host").target)
    assert (target == 0).sum() == 12 * 12 - 16  # the hole stays the host's background
    assert (target == IGNORE_INDEX).sum() == 0


def test_a_donor_larger_than_the_host_is_shrunk_to_fit():
    donor = sample("donor", size=80, square=(2, 2, 76))
    host = sample("host", size=30)
    torch.manual_seed(0)
    image, target = CopyPaste([donor], BACKGROUND, probability=1.0)(host.image, host.target)
    assert target.shape == (30, 30) and image.shape == (3, 30, 30)
    assert (target == 0).sum() > 0.5 * 30 * 30


def test_the_dataset_pastes_before_its_transform():
    host, donor = sample("host"), sample("donor", square=(10, 10, 10))
    paste = CopyPaste([donor], BACKGROUND, probability=1.0)
    dataset = SegmentationDataset([host], val_transform(40, [0.0] * 3, [1.0] * 3), paste)
    image, target = dataset[0]
    assert (target == 0).any() and image.dtype == torch.float32
    assert AugmentOptions().copy_paste == 0.0  # off unless asked for
