"""Remove Islands on a speckled mask (a noisy prediction of a large image) handles all the
islands of a value at once: the same result as one island at a time, with work that does not
grow with the number of islands (it took seconds on the UI thread at 4096 x 4096)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from unet_desktop.core.editing import cleanup
from unet_desktop.core.editing.cleanup import remove_islands


def _one_island_at_a_time(mask, min_size, values=None, fill_value=None, unlabeled=None):
    """The definition: each island of each value in turn takes the most common value of the
    pixels 8-adjacent to it (the smallest of a tie), or ``fill_value``."""
    new = mask.copy()
    present = np.flatnonzero(np.bincount(mask.ravel(), minlength=256))
    for v in [int(v) for v in (values if values is not None else present)
              if v in present and v != unlabeled]:
        count, labels = cv2.connectedComponents((new == v).view(np.uint8), connectivity=8)
        for i in range(1, count):
            island = labels == i
            if island.sum() >= min_size:
                continue
            ring = cv2.dilate(island.view(np.uint8), np.ones((3, 3), np.uint8)).view(bool)
            values_around = new[ring & ~island]
            around = int(np.bincount(values_around, minlength=256).argmax()) \
                if values_around.size else None
            if unlabeled is not None and around == unlabeled:
                continue
            fill = fill_value if fill_value is not None else around
            if fill is not None:
                new[island] = fill
    return new


def _applied(mask, delta):
    out = mask.copy()
    if delta is not None:
        delta.apply(out)
    return out


@pytest.mark.parametrize("options", [{}, {"unlabeled": 128}, {"fill_value": 7},
                                     {"values": [255, 1]}, {"unlabeled": 128, "fill_value": 0}])
def test_the_same_result_as_one_island_at_a_time(options):
    for seed in range(40):
        rng = np.random.default_rng(seed)
        height, width = rng.integers(1, 30, 2)
        mask = rng.choice([0, 1, 2, 128, 255], size=(height, width),
                          p=[0.5, 0.2, 0.1, 0.1, 0.1]).astype(np.uint8)
        if seed % 2:  # blobs of 3 x 3 too, not only single pixels
            mask = np.kron(mask, np.ones((3, 3), np.uint8))[:height, :width].copy()
        min_size = int(rng.integers(2, 12))
        np.testing.assert_array_equal(
            _applied(mask, remove_islands(mask, min_size, **options)),
            _one_island_at_a_time(mask, min_size, **options), err_msg=f"seed {seed}")


class _CountingCv2:
    """cv2, counting the calls of its functions."""

    def __init__(self) -> None:
        self.calls = 0

    def __getattr__(self, name):
        found = getattr(cv2, name)
        if not callable(found):
            return found

        def counted(*args, **kwargs):
            self.calls += 1
            return found(*args, **kwargs)
        return counted


def test_the_work_does_not_grow_with_the_number_of_islands(monkeypatch):
    mask = np.zeros((200, 200), np.uint8)
    mask[5::10, 5::10] = 255  # 400 specks
    counting = _CountingCv2()
    monkeypatch.setattr(cleanup, "cv2", counting)
    result = _applied(mask, remove_islands(mask, 5))
    assert not result.any()
    assert counting.calls <= 2  # one labelling per value, none per island
