"""The simulated user of bench/smart_tools.py: objects of a mask, scoring, corrective strokes.

A stroke goes where a person would put it: on the largest connected error region, from the
point deepest inside it along the region's ridge (the middle of a band, however it curves) both
ways, for as long as the brush stays inside (the brush: the fixed one, or in a region thinner
than that 60 % of the region's depth); a brush wider than the region is centred on the ridge,
so it overpaints a little, as a fixed-size brush does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from unet_desktop.core.labels import LabelScheme


@dataclass
class Target:
    """One object to segment: its pixels, the pixels that count, and the box a user draws."""

    value: int  # the class it belongs to
    truth: np.ndarray  # bool HxW: the object
    valid: np.ndarray  # bool HxW: pixels scored (not ignored, not a trimap's border)
    extent: np.ndarray  # bool HxW: what the user sees as the object (for the box)


def objects_of(mask: np.ndarray, scheme: LabelScheme, mode: str = "class",
               min_fraction: float = 0.001) -> list[Target]:
    """Foreground objects of a stored mask.

    Trimap: the pet (1) is the object, the border (3) is ignored in scoring but inside the box.
    Binary: the foreground. Multiclass: every class but the first and the ignore value.
    ``mode="components"`` splits each class into its 8-connected parts. Objects under
    ``min_fraction`` of the image are skipped.
    """
    valid = np.ones(mask.shape, bool)
    if scheme.kind == "trimap":
        classes = [(1, mask == 1, (mask == 1) | (mask == 3))]
        valid = mask != 3
    elif scheme.kind == "binary":
        fg = mask == scheme.foreground_value
        classes = [(int(scheme.foreground_value), fg, fg)]
    else:
        classes = [(c.value, mask == c.value, mask == c.value) for c in scheme.classes[1:]]
        if scheme.ignore_value is not None:
            valid = mask != scheme.ignore_value
    min_area = max(16, min_fraction * mask.size)
    targets = []
    for value, truth, extent in classes:
        if mode == "components":
            count, labels = cv2.connectedComponents(extent.view(np.uint8), connectivity=8)
            parts = [labels == i for i in range(1, count)]
            targets += [Target(value, truth & p, valid, p) for p in parts]
        else:
            targets.append(Target(value, truth, valid, extent))
    return [t for t in targets if t.truth.sum() >= min_area]


def iou(pred: np.ndarray, target: Target) -> float:
    union = ((pred | target.truth) & target.valid).sum()
    return float((pred & target.truth & target.valid).sum() / union) if union else 1.0


def user_box(extent: np.ndarray, pad_fraction: float = 0.02) -> tuple[int, int, int, int]:
    """The object's bounding box, loosened as a person drawing it would (2 % of its larger
    side, at least 2 px), clipped to the image."""
    x, y, w, h = cv2.boundingRect(extent.view(np.uint8))
    pad = max(2, round(pad_fraction * max(w, h)))
    height, width = extent.shape
    return max(0, y - pad), max(0, x - pad), min(height, y + h + pad), min(width, x + w + pad)


RIDGE_FRACTION = 0.6


@dataclass
class Stroke:
    points: list[tuple[float, float]]  # image coordinates
    foreground: bool  # paints the object (else background)
    error_area: int  # pixels of the error region it targets
    width: int  # the widest brush that stays inside the region along the stroke


def corrective_stroke(pred: np.ndarray, target: Target, diameter: int) -> Stroke | None:
    """A stroke on the largest error region of ``pred``, or None when there is no error."""
    error = (pred != target.truth) & target.valid
    if not error.any():
        return None
    _, labels, stats, _ = cv2.connectedComponentsWithStats(error.view(np.uint8),
                                                               connectivity=8)
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h, area = (int(v) for v in stats[best])
    pad = 1
    y0, x0 = max(0, y - pad), max(0, x - pad)
    region = (labels[y0:y + h + pad, x0:x + w + pad] == best).view(np.uint8)
    depth = cv2.distanceTransform(region, cv2.DIST_L2, 5)
    row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
    # the brush half-width: the fixed brush, or in a thinner region most of its depth, so that
    # the stroke can follow the region rather than stop where it narrows a little
    reach = min(diameter / 2, RIDGE_FRACTION * float(depth[row, col]))
    path = trace_ridge(depth, (row, col), reach)
    step = max(1, round(reach))
    points = [(x0 + c + 0.5, y0 + r + 0.5) for r, c in path[::step] + path[-1:]]
    foreground = bool(target.truth[y0 + row, x0 + col])
    return Stroke(points, foreground, area, max(1, math.floor(2 * reach)))


NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]


def trace_ridge(depth: np.ndarray, start: tuple[int, int], reach: float,
                max_steps: int = 4000) -> list[tuple[int, int]]:
    """A path along the ridge of a distance map through ``start``, both ways, on pixels at
    least ``reach`` deep: each step goes to the deepest unvisited neighbour, keeping its
    direction on a tie."""
    height, width = depth.shape
    visited = np.zeros(depth.shape, bool)

    def mark(p: tuple[int, int], on: bool = True) -> None:
        visited[max(0, p[0] - 1):p[0] + 2, max(0, p[1] - 1):p[1] + 2] = on

    halves: list[list[tuple[int, int]]] = []
    for half in range(2):
        path, (r, c), heading = [], start, None
        if half == 1:  # back from the start, away from the first half
            mark(start, False)
            if halves[0]:
                mark(halves[0][0])
                heading = (start[0] - halves[0][0][0], start[1] - halves[0][0][1])
        visited[start] = True
        for _ in range(max_steps):
            best, best_score = None, -1.0
            for dr, dc in NEIGHBOURS:
                nr, nc = r + dr, c + dc
                if 0 <= nr < height and 0 <= nc < width and not visited[nr, nc] \
                        and depth[nr, nc] >= reach:
                    score = float(depth[nr, nc])
                    if heading is not None:
                        score += 0.5 * (dr * heading[0] + dc * heading[1]) / math.hypot(dr, dc)
                    if score > best_score:
                        best, best_score = (nr, nc), score
            if best is None:
                break
            mark((r, c))  # no stepping back beside the way already gone
            heading = (best[0] - r, best[1] - c)
            r, c = best
            path.append(best)
        halves.append(path)
    return halves[1][::-1] + [start] + halves[0]
