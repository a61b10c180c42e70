"""Fill Holes on a mask with unlabeled pixels: "unlabeled" is no class, and only the unpainted
pixels of a hole are filled (what the user painted inside it stays)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.editing.cleanup import fill_holes

UNLABELED = 128


def _ring_of_strokes() -> np.ndarray:
    """A square ring painted 255 around unpainted pixels, with a stroke of 0 inside it."""
    mask = np.full((30, 30), UNLABELED, np.uint8)
    mask[5:20, 5:20] = 255
    mask[7:18, 7:18] = UNLABELED
    mask[10, 9:16] = 0
    return mask


def test_a_sparse_fill_fills_only_the_unpainted_pixels_of_a_hole():
    mask = _ring_of_strokes()
    new = mask.copy()
    fill_holes(mask, 255, unlabeled=UNLABELED).apply(new)
    assert (new[10, 9:16] == 0).all()  # the stroke inside the ring stays
    inside = np.zeros(mask.shape, bool)
    inside[7:18, 7:18] = True
    assert (new[inside & (mask == UNLABELED)] == 255).all()
    assert (new[~inside] == mask[~inside]).all()  # the unpainted pixels outside stay


def test_unlabeled_is_not_a_class_to_fill_holes_of():
    with pytest.raises(ValueError, match="unlabeled"):
        fill_holes(_ring_of_strokes(), UNLABELED, unlabeled=UNLABELED)


def test_a_hole_with_nothing_unpainted_is_left_alone():
    mask = np.full((20, 20), UNLABELED, np.uint8)
    mask[3:12, 3:12] = 255
    mask[6:9, 6:9] = 0  # painted background inside the object
    assert fill_holes(mask, 255, unlabeled=UNLABELED) is None
