from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.magic_wand import MagicWand, wand_fill


def two_touching_regions(shape=(60, 80), seed=0):
    """A red left half and a green right half touching at column 40, with a little noise."""
    rng = np.random.default_rng(seed)
    image = np.zeros((*shape, 3), np.uint8)
    image[:, :40] = (200, 40, 40)
    image[:, 40:] = (40, 200, 40)
    noise = rng.integers(-6, 7, image.shape)
    return (image.astype(int) + noise).clip(0, 255).astype(np.uint8)


def test_wand_takes_the_clicked_region_and_stops_at_the_touching_one():
    image = two_touching_regions()
    mask = np.zeros(image.shape[:2], np.uint8)
    delta = wand_fill(mask, image, 10.5, 30.5, tolerance=20, value=255)
    delta.apply(mask)
    assert (mask[:, :40] == 255).all() and not mask[:, 40:].any()
    assert delta.bbox == (0, 0, 60, 40)


def test_tolerance_decides_how_far_the_region_reaches():
    image = np.tile(np.arange(0, 200, 2, dtype=np.uint8)[None, :, None], (20, 1, 3))  # ramp
    wand = MagicWand(image, smoothing=1)
    (_, x0, _, x1), inside = wand.region(50.5, 10.5, tolerance=10)
    assert (x0, x1) == (45, 56) and inside.all()
    (_, x0, _, x1), _ = wand.region(50.5, 10.5, tolerance=40)
    assert (x0, x1) == (30, 71)


def test_speckles_inside_the_region_are_filled():
    image = np.full((40, 40, 3), 100, np.uint8)
    image[20, 20] = 0  # one dark pixel in a flat region
    wand = MagicWand(image, smoothing=1)
    _, inside = wand.region(5.5, 5.5, tolerance=5)
    assert inside.all()


def test_limit_confines_the_fill_to_a_region_of_interest():
    image = np.full((3000, 4000, 3), 90, np.uint8)  # one flat 12 MP region
    mask = np.zeros((3000, 4000), np.uint8)
    delta = wand_fill(mask, image, 2000.5, 1500.5, 10, 1, limit=(1000, 1500, 2000, 2500))
    assert delta.bbox == (1000, 1500, 2000, 2500) and (delta.new == 1).all()
    assert wand_fill(mask, image, 10.5, 10.5, 10, 1, limit=(1000, 1500, 2000, 2500)) is None


def test_clicks_outside_and_bad_masks():
    image = two_touching_regions()
    mask = np.zeros(image.shape[:2], np.uint8)
    assert wand_fill(mask, image, -1.0, 5.0, 10, 255) is None
    mask[:, :40] = 255
    assert wand_fill(mask, image, 5.5, 5.5, 10, 255) is None  # already that class
    with pytest.raises(ValueError, match="differ in size"):
        wand_fill(np.zeros((5, 5), np.uint8), image, 1.0, 1.0, 10, 255)
