"""Overlap-tile prediction for images of any size in bounded memory.

Tiles of ``tile`` x ``tile`` pixels overlap by ``overlap`` pixels; each tile's class
probabilities are weighted by a window that is 1 in the middle and falls off with a raised
cosine across the overlap, and the weighted sums are divided by the summed weights, so seams
blend smoothly and pixels near a tile's edge (where the network sees little context) count
little. Tiles are processed one row of tiles at a time and finished rows are handed out as soon
as no later tile touches them, so the working memory is about ``C x 2*tile x width`` floats,
whatever the image height.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np

# Probabilities for a batch of tiles at (y, x) positions: (N, C, tile_h, tile_w) float32.
TileFn = Callable[[Sequence[tuple[int, int]]], np.ndarray]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering ``0..length`` with tiles of ``tile`` that overlap >= ``overlap``."""
    if tile < 1 or not 0 <= overlap < tile:
        raise ValueError(f"need tile >= 1 and 0 <= overlap < tile, got {tile}, {overlap}")
    if length <= tile:
        return [0]
    stride = tile - overlap
    count = math.ceil((length - tile) / stride) + 1
    return [min(i * stride, length - tile) for i in range(count)]


def ramp(length: int, overlap: int) -> np.ndarray:
    """1-D weights: 1 in the middle, a raised-cosine ramp over ``overlap`` px at both ends.

    The ramp never reaches 0, so every pixel keeps a positive total weight.
    """
    weights = np.ones(length, dtype=np.float32)
    r = min(overlap, length // 2)
    if r > 0:
        rise = 0.5 - 0.5 * np.cos(np.pi * (np.arange(r, dtype=np.float32) + 0.5) / r)
        weights[:r] = rise
        weights[length - r:] = rise[::-1]
    return weights


def blend_tiles(
    height: int,
    width: int,
    num_classes: int,
    predict_tiles: TileFn,
    tile: int = 512,
    overlap: int = 64,
    batch_size: int = 4,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(y0, probs)`` row strips (C x rows x width float32) covering the image top-down.

    ``predict_tiles`` gets up to ``batch_size`` (y, x) tile origins of one tile row and returns
    their probabilities. Tiles are ``min(tile, height) x min(tile, width)``.
    """
    tile_h, tile_w = min(tile, height), min(tile, width)
    ys = tile_starts(height, tile_h, min(overlap, tile_h - 1))
    xs = tile_starts(width, tile_w, min(overlap, tile_w - 1))
    window = np.outer(ramp(tile_h, overlap), ramp(tile_w, overlap))
    acc = np.zeros((num_classes, 0, width), dtype=np.float32)
    weight = np.zeros((0, width), dtype=np.float32)
    top = 0  # image row of acc[:, 0]
    for i, y in enumerate(ys):
        grow = y + tile_h - (top + weight.shape[0])
        if grow > 0:
            acc = np.concatenate([acc, np.zeros((num_classes, grow, width), np.float32)], axis=1)
            weight = np.concatenate([weight, np.zeros((grow, width), np.float32)], axis=0)
        for start in range(0, len(xs), batch_size):
            origins = [(y, x) for x in xs[start:start + batch_size]]
            probs = predict_tiles(origins)
            for (_, x), p in zip(origins, probs):
                rows = slice(y - top, y - top + tile_h)
                acc[:, rows, x:x + tile_w] += p * window
                weight[rows, x:x + tile_w] += window
        done = (ys[i + 1] if i + 1 < len(ys) else height) - top
        yield top, acc[:, :done] / weight[:done]
        acc, weight, top = acc[:, done:], weight[done:], top + done
