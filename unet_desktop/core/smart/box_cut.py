"""Box to mask: the object inside a box, cut out by GrabCut (``cv2.grabCut``) and, where a model
of the task has predicted the image, seeded by that prediction.

GrabCut runs inside a region of interest (the box plus a margin of context that teaches it the
background's colours) at a working scale of at most ``max_pixels`` pixels, so its cost does not
grow with the image; the result is brought back to full resolution by linear interpolation of
the object mask. Pixels outside the box are background, except where a stroke says otherwise.

With a ``prior`` (per-pixel probability that a pixel belongs to the object, from a model), the
pixels inside the box that the model is sure about are fixed (sure object / sure background) at
full resolution and GrabCut decides the rest, learning its colour models from the model's guess.

Without a prior GrabCut learns the object's colours from the box and the background's from the
margin; on a gray, textured image (EM: the cell in the box looks like the cells around it) it
often takes nothing or the whole box. Then the object is found by brightness instead
(:func:`brightness_object`: Otsu's threshold of the smoothed box, the connected part of the
centre's side, holes filled), and if that does not separate anything either, ``problem`` says
why in one sentence and the object is empty, so the tool can tell the user instead of doing
nothing silently.

:class:`BoxCut` keeps GrabCut's state, so strokes (:meth:`BoxCut.refine`) that mark sure object
or sure background re-run it from where it was.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from unet_desktop.core.editing.brush import brush_footprint
from unet_desktop.core.editing.delta import BBox, Point
from unet_desktop.core.smart.roi import (
    as_rgb,
    box_is_empty,
    clip_box,
    expand_box,
    resize_to,
    working_scale,
)

MIN_BOX = 3  # px: a box narrower than this is a click, not a box
CONTRAST = 3.0  # brightness sides this many spreads apart are two things (a split Gaussian: 2.7)
MIN_STEP = 8  # gray levels
SEPARATED = (0.02, 0.97)  # a cut between these shares of the box separates something
NOT_SEPARATED = ("Box to mask found no object that stands out from its surroundings in this box "
                 "(no model has predicted this image yet, and brightness alone does not tell "
                 "it apart): draw the box tighter, paint a few strokes, or train a first model")

Prior = np.ndarray | Callable[[BBox], np.ndarray]  # whole-image map, or one for a given box


@dataclass(frozen=True)
class CutSettings:
    """How :class:`BoxCut` works; the defaults keep a cut within about 100 ms."""

    max_pixels: int = 24_000  # working resolution of the region of interest
    iterations: int = 4  # GrabCut iterations of the first cut
    refine_iterations: int = 2  # and of each refining stroke
    margin: float = 0.25  # context around the box, as a fraction of its size
    sure: float = 0.75  # prior >= sure: sure object; prior <= 1 - sure: sure background


DEFAULT_CUT = CutSettings()


def separates(object_mask: np.ndarray) -> bool:
    """Whether a cut is an object rather than nothing or the whole box."""
    share = float(object_mask.mean()) if object_mask.size else 0.0
    return SEPARATED[0] <= share <= SEPARATED[1]


def brightness_object(image: np.ndarray, box: BBox, smoothing: float = 1.5) -> np.ndarray:
    """The object in ``box`` by brightness alone (boolean array of the box): the side of Otsu's
    threshold that fills most of the box's middle third, its connected part (4-neighbours, so
    a thin line of the other side separates) overlapping that middle most, holes filled. Empty
    when the two sides differ by less than ``CONTRAST`` times their spread (one textured
    surface split in two, not two things)."""
    y0, x0, y1, x1 = box
    crop = as_rgb(image[y0:y1, x0:x1])
    gray = cv2.GaussianBlur(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), (0, 0), smoothing)
    _, bright = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    h, w = bright.shape
    sides = [gray[bright == v].astype(np.float32) for v in (0, 1)]
    if min(len(v) for v in sides) == 0:
        return np.zeros((h, w), bool)
    spread = math.sqrt((sides[0].var() + sides[1].var()) / 2)
    if sides[1].mean() - sides[0].mean() < max(MIN_STEP, CONTRAST * spread):
        return np.zeros((h, w), bool)
    middle = (slice(h // 3, h - h // 3), slice(w // 3, w - w // 3))
    side = (bright == int(bright[middle].mean() >= 0.5)).astype(np.uint8)
    count, parts = cv2.connectedComponents(side, connectivity=4)
    found = parts[middle][parts[middle] > 0]
    if count < 2 or found.size == 0:
        return np.zeros((h, w), bool)
    chosen = (parts == np.bincount(found).argmax()).astype(np.uint8)
    outside = np.pad(chosen, 1)
    cv2.floodFill(outside, None, (0, 0), 2)
    return outside[1:-1, 1:-1] != 2


def prior_from_prediction(
    labels: np.ndarray,
    uncertainty: np.ndarray | None,
    object_values: Sequence[int],
    unsure_values: Sequence[int] = (),
) -> np.ndarray:
    """A model's prediction as a float32 map of the probability that a pixel is the object.

    ``labels`` are the predicted stored values and ``uncertainty`` their normalised entropy
    (0 sure .. 1 uniform); a pixel predicted as one of ``object_values`` gets the confidence the
    entropy stands for (the binary inverse: 0.5 .. 1), one predicted otherwise gets one minus
    that, one of ``unsure_values`` (e.g. a trimap's border) 0.5. Without ``uncertainty`` every
    prediction counts as sure.
    """
    if uncertainty is None:
        confidence = np.ones(labels.shape, np.float32)
    else:
        table_p = np.linspace(0.5, 1.0, 257)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -(table_p * np.log2(table_p) + (1 - table_p) * np.nan_to_num(
                np.log2(1 - table_p), neginf=0.0))
        h[-1] = 0.0
        u = np.clip(np.asarray(uncertainty, np.float32), 0.0, 1.0)
        confidence = np.interp(u, h[::-1], table_p[::-1]).astype(np.float32)
    is_object = np.isin(labels, list(object_values))
    prior = np.where(is_object, confidence, 1.0 - confidence).astype(np.float32)
    if unsure_values:
        prior[np.isin(labels, list(unsure_values))] = 0.5
    return prior


class BoxCut:
    """One object cut out of ``image`` inside ``box`` (``(y0, x0, y1, x1)``, image pixels).

    ``prior`` is the object probability map of the whole image, or a function giving it for a
    box (only the region of interest is ever needed). ``object_mask`` is a boolean array over
    ``region`` (the box, or more once a stroke reaches outside it) at full resolution. Raises
    ``ValueError`` for a box of under ``MIN_BOX`` px or a prior of the wrong shape.
    """

    def __init__(self, image: np.ndarray, box: BBox, prior: Prior | None = None,
                 settings: CutSettings = DEFAULT_CUT):
        shape = image.shape[:2]
        box = clip_box(box, shape)
        if box_is_empty(box) or min(box[2] - box[0], box[3] - box[1]) < MIN_BOX:
            raise ValueError(f"the box {box} is too small to cut an object out of "
                             f"(at least {MIN_BOX}x{MIN_BOX} px inside the image)")
        self.settings = settings
        self.box = box
        self.roi = expand_box(box, settings.margin, shape)
        ry0, rx0, ry1, rx1 = self.roi
        roi_shape = (ry1 - ry0, rx1 - rx0)
        self.scale = working_scale(roi_shape, settings.max_pixels)
        small_shape = (max(1, round(roi_shape[0] * self.scale)),
                       max(1, round(roi_shape[1] * self.scale)))
        self._small = resize_to(as_rgb(image[ry0:ry1, rx0:rx1]), small_shape, cv2.INTER_AREA)
        self._small_shape = small_shape
        self._fixed = np.zeros(roi_shape, np.int8)  # full res: 1 sure object, -1 sure background
        self._in_box = np.zeros(roi_shape, bool)
        self._in_box[box[0] - ry0:box[2] - ry0, box[1] - rx0:box[3] - rx0] = True
        self._prior = self._prior_of_roi(prior, shape)
        self._gc = self._seed(self._prior)
        self._bgd = np.zeros((1, 65), np.float64)
        self._fgd = np.zeros((1, 65), np.float64)
        self._region = box
        self.object_mask = np.zeros((box[2] - box[0], box[3] - box[1]), bool)
        self.problem: str | None = None  # why nothing was cut out (module docstring)
        self._run(settings.iterations, init=True)
        if self._prior is None and not separates(self.object_mask):
            self._use_brightness(image)

    def _use_brightness(self, image: np.ndarray) -> None:
        """GrabCut separated nothing: the brightness object, as GrabCut's new starting state."""
        found = brightness_object(image, self.box)
        if not separates(found):
            self.problem = NOT_SEPARATED
            self._set_result(np.zeros(self._fixed.shape, bool))
            return
        ry0, rx0 = self.roi[:2]
        full = np.zeros(self._fixed.shape, bool)
        by0, bx0, by1, bx1 = self.box
        full[by0 - ry0:by1 - ry0, bx0 - rx0:bx1 - rx0] = found
        small = resize_to(full.view(np.uint8), self._small_shape, cv2.INTER_NEAREST) > 0
        box_small = resize_to(self._in_box.view(np.uint8), self._small_shape, cv2.INTER_NEAREST)
        self._gc[...] = cv2.GC_BGD
        self._gc[box_small > 0] = cv2.GC_PR_BGD
        self._gc[small] = cv2.GC_PR_FGD
        self._bgd[:] = 0  # a refining stroke learns the colours again, from this state
        self._fgd[:] = 0
        self._set_result(full)

    # --- seeding -------------------------------------------------------------------------------
    def _prior_of_roi(self, prior: Prior | None, shape: tuple[int, int]) -> np.ndarray | None:
        if prior is None:
            return None
        ry0, rx0, ry1, rx1 = self.roi
        if callable(prior):
            local = np.asarray(prior(self.roi), np.float32)
            expected = (ry1 - ry0, rx1 - rx0)
        else:
            local, expected = prior, shape
        if local.shape != expected:
            raise ValueError(f"the prior is {local.shape[1]}x{local.shape[0]} px, "
                             f"expected {expected[1]}x{expected[0]}")
        return local if callable(prior) else local[ry0:ry1, rx0:rx1]

    def _seed(self, prior: np.ndarray | None) -> np.ndarray:
        """GrabCut's label map at the working scale (and the full-resolution fixed pixels)."""
        sure = self.settings.sure
        inside = self._in_box
        if prior is not None:
            self._fixed[inside & (prior >= sure)] = 1
            self._fixed[inside & (prior <= 1 - sure)] = -1
            prior_small = resize_to(prior, self._small_shape, cv2.INTER_AREA)
            labels = np.where(prior_small >= 0.5, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
            labels[prior_small >= sure] = cv2.GC_FGD
            labels[prior_small <= 1 - sure] = cv2.GC_BGD
        else:
            labels = np.full(self._small_shape, cv2.GC_PR_FGD, np.uint8)
        box_small = resize_to(inside.view(np.uint8), self._small_shape, cv2.INTER_NEAREST)
        labels[box_small == 0] = cv2.GC_BGD
        is_bg = (labels == cv2.GC_BGD) | (labels == cv2.GC_PR_BGD)
        if not is_bg.any():  # a box over the whole image: its frame teaches the background
            for edge in (labels[0], labels[-1], labels[:, 0], labels[:, -1]):
                edge[...] = cv2.GC_PR_BGD
        if not ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)).any():
            labels[(box_small == 1) & (labels != cv2.GC_BGD)] = cv2.GC_PR_FGD
        return labels

    # --- strokes -------------------------------------------------------------------------------
    def refine(self, points: Sequence[Point], diameter: int, foreground: bool) -> None:
        """A stroke through ``points`` (image coordinates) with a brush of ``diameter`` px marks
        sure object (``foreground``) or sure background; GrabCut runs again from its state."""
        ry0, rx0 = self.roi[:2]
        footprint = np.zeros(self._fixed.shape, bool)
        pts = list(points)
        for a, b in zip(pts, pts[1:] or pts, strict=False):
            a_local = (a[0] - rx0, a[1] - ry0)
            b_local = (b[0] - rx0, b[1] - ry0)
            found = brush_footprint(footprint.shape, a_local, b_local, max(1, int(diameter)))
            if found is not None:
                (y0, x0, y1, x1), inside = found
                footprint[y0:y1, x0:x1] |= inside
        if not footprint.any():
            return
        self._fixed[footprint] = 1 if foreground else -1
        small = resize_to(footprint.view(np.uint8), self._small_shape, cv2.INTER_AREA) > 0
        self._gc[small] = cv2.GC_FGD if foreground else cv2.GC_BGD
        self._run(self.settings.refine_iterations, init=False)

    # --- cutting -------------------------------------------------------------------------------
    def _run(self, iterations: int, init: bool) -> None:
        gc = self._gc
        has_fg = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).any()
        has_bg = ((gc == cv2.GC_BGD) | (gc == cv2.GC_PR_BGD)).any()
        if has_fg and has_bg and iterations > 0:
            mode = cv2.GC_INIT_WITH_MASK if init or not self._fgd.any() else cv2.GC_EVAL
            cv2.grabCut(self._small, gc, None, self._bgd, self._fgd, iterations, mode)
        is_fg = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.float32)
        soft = resize_to(is_fg, self._fixed.shape, cv2.INTER_LINEAR)
        if self._prior is not None:  # GrabCut and the model vote, at full resolution
            soft = 0.5 * (soft + self._prior)
        full = soft >= 0.5
        full &= self._in_box | (self._fixed == 1)
        full[self._fixed == 1] = True
        full[self._fixed == -1] = False
        self._set_result(full)

    def _set_result(self, full: np.ndarray) -> None:
        ry0, rx0 = self.roi[:2]
        by0, bx0, by1, bx1 = self.box
        region = list(self.box)
        if (self._fixed == 1).any():  # a stroke may reach beyond the box
            ys, xs = np.nonzero(full)
            if ys.size:
                region = [min(by0, ry0 + ys.min()), min(bx0, rx0 + xs.min()),
                          max(by1, ry0 + ys.max() + 1), max(bx1, rx0 + xs.max() + 1)]
        y0, x0, y1, x1 = region
        self._region = (y0, x0, y1, x1)
        self.object_mask = full[y0 - ry0:y1 - ry0, x0 - rx0:x1 - rx0]

    @property
    def region(self) -> BBox:
        """The box of ``object_mask`` in image pixels."""
        return self._region

    def contains(self, x: float, y: float) -> bool:
        """Whether the image point ``(x, y)`` is on the object."""
        y0, x0, y1, x1 = self._region
        row, col = math.floor(y), math.floor(x)
        return y0 <= row < y1 and x0 <= col < x1 and bool(self.object_mask[row - y0, col - x0])

    def full_mask(self, shape: tuple[int, int]) -> np.ndarray:
        """The object as a boolean mask of an image of ``shape``."""
        out = np.zeros(shape, bool)
        y0, x0, y1, x1 = self._region
        out[y0:y1, x0:x1] = self.object_mask
        return out
