"""Scissors finished (Enter) with fewer than 3 clicked points fill nothing, like the polygon,
however many points the edge-following path between two clicks has."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.labels import binary_scheme
from unet_desktop.core.smart.smart_tools import ScissorsTool


def _disc_document() -> MaskDocument:
    rows, cols = np.mgrid[:80, :100]
    image = np.where((cols - 50) ** 2 + (rows - 40) ** 2 < 25 ** 2, 200, 40).astype(np.uint8)
    return MaskDocument("disc", image, np.zeros((80, 100), np.uint8), binary_scheme())


def test_two_points_and_enter_fill_nothing():
    doc = _disc_document()
    tool = ScissorsTool(doc, value=255)
    tool.press(50.5, 15.5)
    tool.press(50.5, 65.5)  # the path follows the disc's edge: many points
    assert len(tool.points) > 3
    assert tool.finish() is None
    assert not doc.mask.any() and tool.points == [] and tool.path is None


def test_three_points_and_enter_fill_the_outline():
    doc = _disc_document()
    tool = ScissorsTool(doc, value=255)
    for x, y in ((50.5, 15.5), (72.0, 52.0), (28.0, 52.0)):
        tool.press(x, y)
    assert tool.finish() is not None
    assert doc.mask[40, 50] == 255
