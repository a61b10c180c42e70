"""Geodesic distance by raster sweeps against Dijkstra on small random grids."""

from __future__ import annotations

import heapq

import numpy as np

from unet_desktop.core.smart.geodesic import FAR, geodesic_distance


def dijkstra(values, seed, domain, weight):
    h, w = values.shape
    best = np.full((h, w), np.inf)
    best[seed] = 0.0
    queue = [(0.0, *seed)]
    while queue:
        cost, y, x = heapq.heappop(queue)
        if cost > best[y, x]:
            continue
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            yy, xx = y + dy, x + dx
            if 0 <= yy < h and 0 <= xx < w and domain[yy, xx]:
                step = cost + 1 + weight * abs(values[yy, xx] - values[y, x])
                if step < best[yy, xx]:
                    best[yy, xx] = step
                    heapq.heappush(queue, (step, yy, xx))
    return best


def test_sweeps_match_dijkstra_inside_a_ragged_domain():
    rng = np.random.default_rng(1)
    for _ in range(3):
        values = rng.integers(0, 50, (30, 40)).astype(float)
        domain = rng.random((30, 40)) > 0.25
        domain[5, 7] = True
        ours = geodesic_distance(values, (5, 7), domain, weight=0.5, passes=6)
        truth = dijkstra(values, (5, 7), domain, 0.5)
        reached = np.isfinite(truth)
        assert np.allclose(ours[reached], truth[reached])
        assert (ours[~reached] == FAR).all()  # walls and what only walls lead to


def test_fewer_passes_never_underestimate():
    rng = np.random.default_rng(2)
    domain = rng.random((40, 40)) > 0.3
    domain[0, 0] = True
    truth = dijkstra(np.zeros((40, 40)), (0, 0), domain, 0.0)
    once = geodesic_distance(np.zeros((40, 40)), (0, 0), domain, passes=1)
    reached = np.isfinite(truth) & (once < FAR)
    assert (once[reached] >= truth[reached] - 1e-9).all()
