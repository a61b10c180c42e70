"""Geodesic distance on a pixel grid: the cheapest path cost from a seed, each step between
4-neighbours costing ``1 + weight * |difference of their values|``, through a domain.

Raster sweeps (down, then up, each row relaxed from the row before and then along itself left
and right), repeated ``passes`` times: exact for paths that turn back fewer times than that,
an over-estimate otherwise, and never below the true distance. A row's left-to-right relaxation
``d[x] = min(d[x], d[x-1] + c[x])`` is one vectorised step: with ``C`` the running sum of the
step costs, ``d[x] = C[x] + min over k <= x of (d[k] - C[k])``.

The magic wand uses it to let its region grow with the tolerance a ring at a time, and Fix
region to keep a click on a thin network to the stretch near the click.
"""

from __future__ import annotations

import numpy as np

BLOCKED = 1e7  # the cost of a step out of the domain (finite, so running sums stay numbers)
FAR = 1e12


def _relax_row(d: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Left-to-right: ``step[x]`` is the cost of moving from ``x - 1`` to ``x``."""
    running = np.cumsum(step)
    return np.minimum(d, running + np.minimum.accumulate(d - running))


def _relax_both_ways(d: np.ndarray, step_h: np.ndarray) -> np.ndarray:
    d = _relax_row(d, step_h)
    # right-to-left: the cost of moving from x + 1 to x is step_h[x + 1]
    return _relax_row(d[::-1], np.concatenate([[BLOCKED], step_h[1:][::-1]]))[::-1]


def geodesic_distance(values: np.ndarray, seed: tuple[int, int], domain: np.ndarray | None = None,
                      weight: float = 0.0, passes: int = 2) -> np.ndarray:
    """Distances (float64, ``FAR``-ish outside what the seed reaches) from ``seed`` (row, col)
    over a 2-D ``values`` array; ``domain`` (bool) limits the paths."""
    v = np.asarray(values, np.float64)
    if v.ndim != 2:
        raise ValueError(f"geodesic distance needs a 2-D array, got {v.shape}")
    h, w = v.shape
    inside = np.ones((h, w), bool) if domain is None else np.asarray(domain, bool)
    step_h = np.ones((h, w))  # step_h[y, x]: from (y, x-1) to (y, x)
    step_v = np.ones((h, w))  # step_v[y, x]: from (y-1, x) to (y, x)
    if weight:
        step_h[:, 1:] += weight * np.abs(np.diff(v, axis=1))
        step_v[1:] += weight * np.abs(np.diff(v, axis=0))
    step_h[:, 0] = BLOCKED
    step_v[0] = BLOCKED
    step_h[~inside] = BLOCKED
    step_h[:, 1:][~inside[:, :-1]] = BLOCKED
    step_v[~inside] = BLOCKED
    step_v[1:][~inside[:-1]] = BLOCKED
    d = np.full((h, w), FAR)
    d[seed] = 0.0
    d[seed[0]] = _relax_both_ways(d[seed[0]], step_h[seed[0]])
    for _ in range(passes):
        for y in range(1, h):
            d[y] = _relax_both_ways(np.minimum(d[y], d[y - 1] + step_v[y]), step_h[y])
        for y in range(h - 2, -1, -1):
            d[y] = _relax_both_ways(np.minimum(d[y], d[y + 1] + step_v[y + 1]), step_h[y])
    d[~inside | (d >= BLOCKED)] = FAR  # out of the domain, or reached only through it
    return d
