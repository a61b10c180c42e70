from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.smart.box_cut import BoxCut, CutSettings, prior_from_prediction


def disc_on_noise(shape=(120, 160), centre=(80, 60), radius=30, seed=0):
    """An orange disc on grey-blue noise; returns (image, boolean disc)."""
    rng = np.random.default_rng(seed)
    image = rng.normal((60, 70, 90), 12, (*shape, 3)).clip(0, 255).astype(np.uint8)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    disc = (xx + 0.5 - centre[0]) ** 2 + (yy + 0.5 - centre[1]) ** 2 <= radius**2
    image[disc] = rng.normal((220, 140, 40), 12, (int(disc.sum()), 3)).clip(0, 255)
    return image, disc


def iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_box_around_a_disc_on_noise_cuts_out_the_disc():
    image, disc = disc_on_noise()
    cut = BoxCut(image, (25, 45, 95, 115))
    assert cut.region == (25, 45, 95, 115)
    assert iou(cut.full_mask(disc.shape), disc) > 0.95


def test_nothing_outside_the_box_belongs_to_the_object():
    image, disc = disc_on_noise()
    cut = BoxCut(image, (25, 45, 90, 115))  # the disc's bottom 5 rows are left out
    full = cut.full_mask(disc.shape)
    assert not full[90:].any() and full[30:90].sum() > 0.95 * disc[30:90].sum()


def test_a_background_stroke_removes_a_part_and_an_object_stroke_adds_one():
    image, disc = disc_on_noise()
    cut = BoxCut(image, (25, 45, 95, 115))
    cut.refine([(62.0, 40.0), (98.0, 40.0)], 24, foreground=False)  # top of the disc
    full = cut.full_mask(disc.shape)
    assert not full[30:50, 62:98].any() and full[70:88, 70:90].all()
    cut.refine([(80.0, 20.0), (80.0, 22.0)], 6, foreground=True)  # noise above the box
    full = cut.full_mask(disc.shape)
    assert full[20, 80] and cut.region[0] <= 17


def test_a_prior_from_a_model_decides_where_colour_cannot():
    rng = np.random.default_rng(1)
    image = rng.normal(128, 20, (100, 100, 3)).clip(0, 255).astype(np.uint8)  # no object at all
    labels = np.zeros((100, 100), np.uint8)
    labels[30:70, 20:60] = 255
    uncertainty = np.full((100, 100), 0.05, np.float32)
    cut = BoxCut(image, (10, 10, 90, 90), prior_from_prediction(labels, uncertainty, (255,)))
    assert iou(cut.full_mask((100, 100)), labels == 255) > 0.98


def test_prior_from_prediction_turns_entropy_into_confidence():
    labels = np.array([[1, 1, 2, 3]], np.uint8)
    uncertainty = np.array([[0.0, 1.0, 0.0, 0.2]], np.float32)
    prior = prior_from_prediction(labels, uncertainty, (1,), unsure_values=(3,))
    assert prior[0, 0] == pytest.approx(1.0) and prior[0, 1] == pytest.approx(0.5)
    assert prior[0, 2] == pytest.approx(0.0) and prior[0, 3] == pytest.approx(0.5)


def test_large_image_works_in_a_scaled_region_of_interest():
    image, disc = disc_on_noise((3000, 4000), centre=(2500, 1000), radius=400)
    cut = BoxCut(image, (560, 2060, 1440, 2940), settings=CutSettings(max_pixels=20_000))
    assert cut.scale < 0.15 and cut.roi[2] - cut.roi[0] < 1400  # never the whole image
    assert cut.object_mask.shape == (880, 880)
    assert iou(cut.full_mask(disc.shape), disc) > 0.95


def test_too_small_boxes_and_bad_priors_are_refused():
    image, _ = disc_on_noise()
    with pytest.raises(ValueError, match="too small"):
        BoxCut(image, (10, 10, 11, 40))
    with pytest.raises(ValueError, match="too small"):
        BoxCut(image, (500, 500, 600, 600))
    with pytest.raises(ValueError, match="prior"):
        BoxCut(image, (10, 10, 50, 50), np.zeros((5, 5), np.float32))


def test_a_box_over_the_whole_image_still_finds_the_object():
    image, disc = disc_on_noise((80, 80), centre=(40, 40), radius=25)
    cut = BoxCut(image, (0, 0, 80, 80))
    assert iou(cut.full_mask(disc.shape), disc) > 0.85


def test_contains_tells_object_from_background():
    image, _ = disc_on_noise()
    cut = BoxCut(image, (25, 45, 95, 115))
    assert cut.contains(80.5, 60.5) and not cut.contains(47.5, 27.5)
    assert not cut.contains(5.0, 5.0) and not cut.contains(500.0, 60.0)


def test_on_a_gray_textured_image_without_a_model_the_box_finds_the_cell(gray_cells):
    """EM-like: GrabCut alone takes nothing (the cell looks like its neighbours in the margin);
    brightness separates the cell inside its membranes."""
    from unet_desktop.core.smart.box_cut import brightness_object

    image, membrane, cells = gray_cells(256)
    for centre in ((128, 128), (60, 60), (200, 180)):
        cell = (cells == cells[centre]) & ~membrane
        ys, xs = np.nonzero(cell)
        box = (max(0, ys.min() - 3), max(0, xs.min() - 3), ys.max() + 4, xs.max() + 4)
        cut = BoxCut(image, box)
        assert cut.problem is None
        assert iou(cut.full_mask(image.shape), cell) > 0.85, centre
        assert brightness_object(image, box).any()


def test_a_box_with_nothing_to_tell_apart_says_why():
    flat = np.random.default_rng(0).normal(120, 3, (80, 80)).clip(0, 255).astype(np.uint8)
    cut = BoxCut(flat, (20, 20, 60, 60))
    assert not cut.object_mask.any()
    assert "no object that stands out" in cut.problem
