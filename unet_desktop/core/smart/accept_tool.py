"""Accept the prediction in one region only (no Qt): in a task with sparse labels the prediction
is a layer of its own, and this tool makes it the labels where the user says it is right.

- A click (press and release within ``click_px``) accepts the predicted region under it:
  the connected pixels the prediction gives the clicked class, bounded to what is visibly one
  region (``region_fix.clicked_region``: a cell whole, a stretch of a membrane network; in a
  trimap a pet with its border).
- A drag accepts the prediction under a round brush of ``size`` px, as it moves.

Either is one undo step. In a task with sparse labels only unlabeled pixels take the
prediction: what the user painted stays the label. Without sparse labels the region's mask
becomes the prediction there. Without a prediction on screen nothing changes and ``message``
says why (the window shows it).
"""

from __future__ import annotations

import math

import numpy as np

from unet_desktop.core.editing.brush import brush_footprint
from unet_desktop.core.editing.delta import BBox, Delta, Point, delta_from_region
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.tools import DEFAULT_BRUSH_SIZE, Tool
from unet_desktop.core.smart.region_fix import clicked_region
from unet_desktop.core.smart.smart_tools import PredictionSource, _no_prediction

CLICK_PX = 2.0  # image px: a press and release closer than this is a click, not a drag
NO_PREDICTION = "No prediction in this task's classes on screen to accept"


def accept_in_region(mask: np.ndarray, labels: np.ndarray, box: BBox, inside: np.ndarray,
                     ignore: int | None, label: str) -> Delta | None:
    """The edit that gives the pixels of ``inside`` (a boolean array of ``box``) their
    predicted ``labels``: only the unlabeled ones (``ignore``) when the task has sparse labels."""
    if labels.shape != mask.shape:
        raise ValueError(f"prediction {labels.shape} does not match the mask {mask.shape}")
    y0, x0, y1, x1 = box
    old = mask[y0:y1, x0:x1]
    take = inside if ignore is None else inside & (old == ignore)
    new = old.copy()
    new[take] = labels[y0:y1, x0:x1][take]
    return delta_from_region(mask, box, new, label)


class AcceptPredictionTool(Tool):
    """Click: accept the predicted region under the pointer; drag: accept under the brush
    (module docstring)."""

    name = "accept"
    label = "Accept prediction here"
    click_px = CLICK_PX  # image px (a window scales it with the zoom)

    def __init__(self, document: MaskDocument | None = None, size: int = DEFAULT_BRUSH_SIZE,
                 limit: BBox | None = None, prediction: PredictionSource = _no_prediction):
        super().__init__(document)
        self.size = size
        self.limit = limit  # the part of a large image a click's region stays in
        self.prediction = prediction
        self.message: str | None = None
        self._labels: np.ndarray | None = None  # the prediction, read once per press
        self._press: Point | None = None
        self._last: Point | None = None  # the brush's last point, once the press is a drag

    def press(self, x: float, y: float) -> BBox | None:
        self.message = None
        doc = self.document
        found = self.prediction() if doc is not None else None
        if doc is None or found is None:
            self.message = NO_PREDICTION if doc is not None else None
            return None
        self._labels = found[0]
        self._press, self._last = (x, y), None
        doc.begin_stroke(self.label)
        return None

    def move(self, x: float, y: float) -> BBox | None:
        doc, press = self.document, self._press
        if doc is None or press is None:
            return None
        if not doc.in_stroke:  # an undo or another edit ended the drag (a save does not)
            self._press = self._last = self._labels = None
            return None
        if self._last is None:
            if math.hypot(x - press[0], y - press[1]) < self.click_px:
                return None
            self._last = press  # a drag: the brush starts where it was pressed
        a, self._last = self._last, (x, y)
        found = brush_footprint(doc.shape, a, (x, y), self.size)
        if found is None:
            return None
        return doc.apply(accept_in_region(doc.mask, self._labels, *found,
                                          doc.scheme.ignore_value, self.label))

    def release(self, x: float, y: float) -> BBox | None:
        doc, press = self.document, self._press
        if doc is None or press is None:
            return None
        if self._last is not None or math.hypot(x - press[0], y - press[1]) >= self.click_px:
            bbox = self.move(x, y)
        else:
            bbox = self._accept_region(doc, press)
        self._press = self._last = self._labels = None
        ended = doc.end_stroke()
        return bbox if bbox is not None else ended

    def _accept_region(self, doc: MaskDocument, press: Point) -> BBox | None:
        together = (1, 3) if doc.scheme.kind == "trimap" else ()  # a pet and its border
        found = clicked_region(self._labels, *press, self.limit, together)
        if found is None:
            return None
        return doc.apply(accept_in_region(doc.mask, self._labels, *found,
                                          doc.scheme.ignore_value, self.label))

    def cancel(self) -> BBox | None:
        """Ends a drag, keeping what it accepted (one undo step)."""
        if self._press is not None and self.document is not None:
            self.document.end_stroke()
        self._press = self._last = self._labels = None
        return None
