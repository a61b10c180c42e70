"""ml.error_places: wrong pixels on the true outlines vs inside regions (generated masks)."""

import numpy as np
import pytest

from unet_desktop.core.labels import IGNORE_INDEX
from unet_desktop.ml.error_places import ErrorPlaces, outline_band


def disc(shape=(64, 64), centre=(32, 32), radius=12) -> np.ndarray:
    yy, xx = np.indices(shape)
    return ((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2).astype(np.uint8)


def test_the_band_is_one_pixel_either_side_of_each_outline_and_skips_unlabelled_pixels():
    truth = np.zeros((9, 9), np.uint8)
    truth[:, 5:] = 1
    truth[:, 8] = IGNORE_INDEX  # the unlabelled column has no outline of its own
    band = outline_band(truth)
    assert band[:, 4].all() and band[:, 5].all()
    assert not band[:, :4].any() and not band[:, 6:].any()


def test_an_outline_drawn_one_pixel_off_is_wrong_only_on_the_outlines():
    truth = disc()
    shifted = np.roll(truth, 1, axis=1)
    places = ErrorPlaces()
    places.add(shifted, truth)
    assert places.wrong_on_outlines > 0 and places.wrong_inside == 0


def test_a_missed_structure_and_a_made_up_one_are_wrong_inside_the_regions():
    truth = disc()
    truth[50:60, 5:15] = 1  # a second structure the prediction misses
    predicted = disc()
    predicted[2:8, 50:60] = 1  # and one the truth does not have
    places = ErrorPlaces()
    places.add(predicted, truth)
    missed_inside = 8 * 8  # the 10x10 square less its 1-px band
    assert places.wrong_inside == missed_inside + 6 * 10
    assert places.wrong_on_outlines == 10 * 10 - missed_inside
    f = places.fractions()
    assert f["wrong_inside"] + f["wrong_on_outlines"] == pytest.approx(
        float((predicted != truth).mean()))


def test_counts_add_up_over_images_of_several_classes_and_leave_ignored_pixels_out():
    truth = disc() * 2
    truth[:, :10] = 1
    truth[:5] = IGNORE_INDEX
    predicted = np.zeros_like(truth)  # every labelled pixel of classes 1 and 2 wrong
    places = ErrorPlaces()
    for _ in range(2):
        places.add(predicted, truth)
    labelled = int((truth != IGNORE_INDEX).sum())
    wrong = int(((truth == 1) | (truth == 2)).sum())
    assert places.scored == 2 * labelled
    assert places.wrong_on_outlines + places.wrong_inside == 2 * wrong
    assert "inside regions" in places.line()
    with pytest.raises(ValueError, match="differ in size"):
        places.add(predicted[:10], truth)
