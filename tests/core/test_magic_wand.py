from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.smart.magic_wand import MagicWand, wand_fill


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
    delta = wand_fill(mask, image, 10.5, 30.5, tolerance=40, value=255)
    delta.apply(mask)
    assert (mask[:, :40] == 255).all() and not mask[:, 40:].any()
    assert delta.bbox == (0, 0, 60, 40)


def test_tolerance_decides_how_far_the_region_reaches():
    image = np.tile(np.arange(0, 200, 2, dtype=np.uint8)[None, :, None], (20, 1, 3))  # ramp
    wand = MagicWand(image, smoothing=1)
    (_, x0, _, x1), inside = wand.region(50.5, 10.5, tolerance=10)
    assert 45 <= x0 <= 47 and 54 <= x1 <= 56 and inside.all()  # within 10 grey levels
    (_, x0, _, x1), _ = wand.region(50.5, 10.5, tolerance=40)
    assert 30 <= x0 <= 35 and 66 <= x1 <= 71
    flat = MagicWand(image, smoothing=1, distance_cost=0)  # the colour alone: a flood fill
    assert flat.region(50.5, 10.5, tolerance=40)[0][1::2] == (30, 71)


def test_speckles_inside_the_region_are_filled():
    image = np.full((40, 40, 3), 100, np.uint8)
    image[20, 20] = 0  # one dark pixel in a flat region
    wand = MagicWand(image, smoothing=1)
    (y0, x0, _, _), inside = wand.region(5.5, 5.5, tolerance=40)
    assert inside[20 - y0, 20 - x0] and inside[15 - y0, 25 - x0]


def test_limit_confines_the_fill_to_a_region_of_interest():
    image = np.full((3000, 4000, 3), 90, np.uint8)  # one flat 12 MP region
    mask = np.zeros((3000, 4000), np.uint8)
    delta = wand_fill(mask, image, 2000.5, 1500.5, 24, 1, limit=(1000, 1500, 2000, 2500))
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


def test_on_a_gray_membrane_network_the_region_grows_smoothly_with_the_tolerance(gray_cells):
    """EM-like: a plain flood fill from a cell leaks into the connected membranes and the whole
    image at one tolerance step; here every step of 4 adds at most a fifth of the image, and the
    region still goes from within the cell to (nearly) everything."""
    import cv2

    image, membrane, cells = gray_cells(256)
    inside_cell = cv2.distanceTransform((~membrane).astype(np.uint8), cv2.DIST_L2, 3)
    row, col = np.unravel_index(np.argmax(inside_cell), image.shape)
    wand = MagicWand(image)
    areas = []
    for tolerance in range(0, 256, 4):
        _, inside = wand.region(col + 0.5, row + 0.5, tolerance)
        areas.append(inside.sum() / image.size)
    steps = np.diff(areas)
    assert (steps >= 0).all()  # never shrinks
    assert steps.max() <= 0.2, f"jumps by {steps.max():.2f} of the image at one step"
    assert areas[6] <= (cells == cells[row, col]).mean()  # tolerance 24: within its cell
    assert areas[-1] >= 0.95
    plain = MagicWand(image, distance_cost=0)  # the old flood fill: the jump this replaces
    plain_areas = [plain.region(col + 0.5, row + 0.5, t)[1].sum() / image.size
                   for t in range(0, 256, 4)]
    assert np.diff(plain_areas).max() > 0.5
