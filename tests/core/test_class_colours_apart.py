"""New Task's proposed colours stay apart beyond the eight vivid ones: a ninth class took the
ninth multiclass default, 40 RGB from the vivid cyan (CamVid's Pedestrian beside Tree)."""

import itertools

import numpy as np
import pytest

from unet_desktop.core.folder.task_proposal import VIVID, visible_colors


def closest_pair(colours):
    return min(float(np.linalg.norm(np.subtract(a, b, dtype=float)))
               for a, b in itertools.combinations(colours, 2))


@pytest.mark.parametrize("count", [9, 11, 12, 16])
def test_colours_beyond_the_vivid_ones_keep_their_distance(count):
    rng = np.random.default_rng(0)
    street = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    for images in ([], [street]):
        colours = visible_colors(images, count)
        assert len(colours) == count and len(set(colours)) == count
        assert closest_pair(colours) >= 60, (count, colours)


def test_eight_classes_keep_the_vivid_colours():
    assert set(visible_colors([], 8)) == set(VIVID)


def test_more_classes_than_colours_still_get_one_each():
    colours = visible_colors([], 30)
    assert len(colours) == 30
