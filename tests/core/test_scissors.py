from __future__ import annotations

import numpy as np

from unet_desktop.core.editing.fills import polygon_fill
from unet_desktop.core.smart.scissors import ScissorsPath, snap_segment


def edge_with_gradient(shape=(120, 120), edge_x=60):
    """A vertical step edge at ``edge_x`` over a smooth left-to-right brightness gradient."""
    ramp = np.linspace(40, 110, shape[1])[None, :].repeat(shape[0], 0)
    ramp[:, edge_x:] += 100
    return np.repeat(ramp.clip(0, 255).astype(np.uint8)[:, :, None], 3, axis=2)


def test_a_segment_between_points_off_the_edge_snaps_onto_it():
    image = edge_with_gradient()
    path = snap_segment(image, (57.0, 10.0), (63.0, 110.0))
    assert path[0] == (57.0, 10.0) and path[-1] == (63.0, 110.0)
    xs = np.array([p[0] for p in path[3:-3]])
    assert len(path) > 50 and np.abs(xs - 60).max() <= 1.5  # on the edge, not the diagonal


def test_closing_the_path_fills_the_outlined_disc():
    image = np.full((100, 100, 3), 30, np.uint8)
    yy, xx = np.mgrid[:100, :100]
    disc = (xx + 0.5 - 50) ** 2 + (yy + 0.5 - 50) ** 2 <= 30**2
    image[disc] = 220
    path = ScissorsPath(image)
    for x, y in ((50.0, 21.0), (79.0, 50.0), (50.0, 79.0), (21.0, 50.0)):
        path.add(x, y)
    mask = np.zeros((100, 100), np.uint8)
    polygon_fill(mask, path.closed(), 255).apply(mask)
    filled = mask == 255
    assert (filled & disc).sum() / (filled | disc).sum() > 0.93


def test_large_image_segments_work_in_a_scaled_window():
    image = edge_with_gradient((4000, 6000), edge_x=3000)
    path = snap_segment(image, (2990.0, 100.0), (3010.0, 3900.0), max_pixels=20_000)
    xs = np.array([p[0] for p in path[2:-2]])
    assert np.abs(xs - 3000).max() < 40  # one working pixel is about 30 image px here
    assert min(p[0] for p in path) > 1000  # the window, not the whole width
