"""New Task proposes from the images: native scale for thin structures, visible colours."""

from __future__ import annotations

import cv2
import numpy as np

from unet_desktop.core.folder.task_proposal import (
    THIN_SHARE,
    propose,
    thin_structure_share,
    visible_colors,
    with_colors,
)
from unet_desktop.core.labels import binary_scheme


def blob_image(seed: int, size: int = 384) -> np.ndarray:
    """A few large bright objects on a noisy dark background (pets, cars, nuclei)."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 60, np.uint8)
    for _ in range(5):
        centre = tuple(int(v) for v in rng.integers(40, size - 40, 2))
        cv2.circle(image, centre, int(rng.integers(20, 50)), 200, -1)
    return (image + rng.normal(0, 8, image.shape)).clip(0, 255).astype(np.uint8)


def vessel_image(seed: int, size: int = 384) -> np.ndarray:
    """Thin dark branching lines on a bright textured background (vessels, cracks)."""
    rng = np.random.default_rng(seed)
    image = np.full((size, size), 170, np.uint8)
    for _ in range(12):
        points = np.cumsum(rng.normal(0, 25, (12, 2)), axis=0) + rng.integers(0, size, 2)
        cv2.polylines(image, [points.astype(np.int32)], False, 70, 2)
    return (image + rng.normal(0, 10, image.shape)).clip(0, 255).astype(np.uint8)


def test_thin_structures_measure_high_and_blobs_low(gray_cells):
    membranes = [gray_cells(256, seed=s)[0] for s in range(3)]
    vessels = [vessel_image(s) for s in range(3)]
    blobs = [blob_image(s) for s in range(3)]
    assert min(map(thin_structure_share, membranes + vessels)) >= THIN_SHARE
    assert max(map(thin_structure_share, blobs)) < THIN_SHARE / 2
    assert propose(membranes, 2).scale == "native"
    assert propose(vessels, 2).scale == "native"
    assert propose(blobs, 2).scale == "fit"
    assert "thin structures" in propose(vessels, 2).why


def test_proposed_colours_are_vivid_and_avoid_the_images_own(gray_cells):
    gray = [gray_cells(256)[0]]
    colours = visible_colors(gray, 2)
    for c in colours:
        assert max(c) - min(c) >= 150  # saturated: never black, white or gray on EM
    red = [np.full((64, 64, 3), (250, 60, 60), np.uint8)]
    assert (255, 64, 64) not in visible_colors(red, 3)  # not red on a red car
    scheme = with_colors(binary_scheme(("membrane", "cell")), colours)
    assert [c.color for c in scheme.classes] == colours and list(scheme.names) == ["membrane", "cell"]


def test_more_classes_than_vivid_colours_still_get_a_colour_each(gray_cells):
    """12 classes (CamVid's masks): the vivid colours, then the multiclass defaults; classes
    8-11 shared the colours of classes 0-3."""
    for images in ([gray_cells(64)[0]], []):
        colours = visible_colors(images, 12)
        assert len(set(colours)) == 12
