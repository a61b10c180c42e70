"""Smart mouse tools (no Qt): box to mask, magic wand, intelligent scissors, fix a region.

They follow :mod:`.tools`: the canvas forwards press / move / release in image coordinates, a
tool changes its ``document`` only through ``MaskDocument.apply`` and returns the changed box.
The work itself is in :mod:`.box_cut`, :mod:`.magic_wand`, :mod:`.scissors` and
:mod:`.region_fix`.

A model's prediction reaches the tools through ``prediction``: a function returning the
predicted labels (in the document's scheme) and their uncertainty for the image on screen, or
``None`` when no prediction is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from unet_desktop.core.editing.delta import BBox, Point, delta_from_region, union_bbox
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.tools import DEFAULT_BRUSH_SIZE, PolygonTool, Tool, _paint_value
from unet_desktop.core.smart.box_cut import DEFAULT_CUT, BoxCut, CutSettings, prior_from_prediction
from unet_desktop.core.smart.magic_wand import (
    DEFAULT_TOLERANCE,
    MAX_TOLERANCE,
    MagicWand,
    wand_fill,
)
from unet_desktop.core.smart.region_fix import clicked_region, fix_region
from unet_desktop.core.smart.roi import box_from_corners
from unet_desktop.core.smart.scissors import ScissorsPath

PredictionSource = Callable[[], "tuple[np.ndarray, np.ndarray | None] | None"]


def _no_prediction() -> None:
    return None


class _AmendingTool(Tool):
    """A tool whose last edit may be replaced while it is still the newest undo step."""

    def __init__(self, document: MaskDocument | None = None):
        super().__init__(document)
        self._state: int | None = None  # history state right after this tool's last edit

    def _owns_last_edit(self) -> bool:
        doc = self.document
        return doc is not None and self._state is not None and \
            doc.history.state_id == self._state and not doc.in_stroke

    def _apply(self, delta) -> BBox | None:
        doc = self.document
        bbox = doc.apply(delta)
        self._state = doc.history.state_id if bbox is not None else None
        return bbox


class BoxTool(_AmendingTool):
    """Drag a box: the object inside it becomes ``value`` (one undo step).

    While that result is the newest edit, a drag that starts inside the box is a stroke that
    refines it: over a part taken for the object it marks sure background, elsewhere sure
    object (brush ``size`` px). Each stroke is one more undo step. A box in which nothing could
    be told apart changes nothing and says why in ``message`` (the window shows it).
    """

    name = "box"
    label = "Box to mask"

    def __init__(self, document: MaskDocument | None = None, value: int = 255,
                 size: int = DEFAULT_BRUSH_SIZE, settings: CutSettings = DEFAULT_CUT,
                 prediction: PredictionSource = _no_prediction):
        super().__init__(document)
        self.value = value
        self.size = size
        self.settings = settings
        self.prediction = prediction
        self.cut: BoxCut | None = None
        self._base: np.ndarray | None = None  # the mask over cut.roi before the first cut
        self._start: Point | None = None
        self._cursor: Point | None = None
        self._stroke: list[Point] | None = None
        self._stroke_object = False
        self._value = value  # the value of the cut on screen
        self.message: str | None = None  # why the last box cut nothing out

    @property
    def box_preview(self) -> BBox | None:
        """The box being dragged, for the canvas to draw."""
        if self._start is None or self._cursor is None or self._stroke is not None:
            return None
        return box_from_corners(self._start, self._cursor)

    @property
    def preview(self) -> list[Point]:
        return list(self._stroke or [])

    def _prior(self, value: int):
        found = self.prediction()
        if found is None:
            return None
        labels, uncertainty = found
        scheme = self.document.scheme
        unsure = (3,) if scheme.kind == "trimap" and value != 3 else ()

        def prior(roi: BBox) -> np.ndarray:
            y0, x0, y1, x1 = roi
            unc = uncertainty[y0:y1, x0:x1] if uncertainty is not None else None
            return prior_from_prediction(labels[y0:y1, x0:x1], unc, (value,), unsure)
        return prior

    def press(self, x: float, y: float) -> BBox | None:
        if self.document is None:
            return None
        self._cursor = (x, y)
        cut = self.cut
        if cut is not None and self._owns_last_edit():
            by0, bx0, by1, bx1 = cut.box
            if by0 <= y < by1 and bx0 <= x < bx1:  # a stroke: the opposite of what is there
                self._stroke_object = not cut.contains(x, y)
                self._stroke = [(x, y)]
                return None
        self.cut = None
        self._start = (x, y)
        return None

    def move(self, x: float, y: float) -> BBox | None:
        self._cursor = (x, y)
        if self._stroke is not None:
            self._stroke.append((x, y))
        return None

    def release(self, x: float, y: float) -> BBox | None:
        doc = self.document
        if doc is None:
            return self.cancel()
        self.move(x, y)
        if self._stroke is not None:
            stroke, self._stroke = self._stroke, None
            self.cut.refine(stroke, self.size, self._stroke_object)
            return self._show(doc, "Box refine")
        start, self._start = self._start, None
        if start is None:
            return None
        value = _paint_value(doc, self.value)
        self.message = None
        try:
            self.cut = BoxCut(doc.image, box_from_corners(start, (x, y)), self._prior(value),
                              self.settings)
        except ValueError:  # a click or a sliver, not a box
            self.cut = None
            return None
        if self.cut.problem is not None:
            self.message, self.cut = self.cut.problem, None
            return None
        y0, x0, y1, x1 = self.cut.roi
        self._base = doc.mask[y0:y1, x0:x1].copy()
        self._value = value
        return self._show(doc, self.label)

    def _show(self, doc: MaskDocument, label: str) -> BBox | None:
        cut = self.cut
        y0, x0 = cut.roi[:2]
        new = self._base.copy()
        ry0, rx0, ry1, rx1 = cut.region
        local = new[ry0 - y0:ry1 - y0, rx0 - x0:rx1 - x0]
        local[cut.object_mask] = self._value
        return self._apply(delta_from_region(doc.mask, cut.roi, new, label))

    def cancel(self) -> BBox | None:
        self.cut = None
        self._start = self._cursor = self._stroke = None
        return None


class WandTool(_AmendingTool):
    """Click: the region of similar colour becomes ``value``. Dragging sideways while pressed
    changes the tolerance live; :meth:`set_tolerance` amends the last click while it is the
    newest edit. ``on_tolerance`` hears every change of the tolerance made by a drag."""

    name = "wand"
    label = "Magic wand"
    drag_px_per_step = 2.0  # image px of sideways drag per tolerance step (scaled with the zoom)

    def __init__(self, document: MaskDocument | None = None, value: int = 255,
                 tolerance: int = DEFAULT_TOLERANCE, limit: BBox | None = None,
                 on_tolerance: Callable[[int], None] | None = None):
        super().__init__(document)
        self.value = value
        self.tolerance = tolerance
        self.limit = limit
        self.on_tolerance = on_tolerance
        self._wand: MagicWand | None = None
        self._seed: Point | None = None
        self._press_tolerance = tolerance
        self._pressed = False

    def _fill(self) -> BBox | None:
        doc = self.document
        if self._wand is None or self._wand.image is not doc.image:
            self._wand = MagicWand(doc.image)
        value = _paint_value(doc, self.value)
        return self._apply(wand_fill(doc.mask, self._wand, *self._seed, self.tolerance, value,
                                     self.limit, self.label))

    def press(self, x: float, y: float) -> BBox | None:
        if self.document is None:
            return None
        self._seed = (x, y)
        self._press_tolerance = self.tolerance
        self._pressed = True
        return self._fill()

    def move(self, x: float, y: float) -> BBox | None:
        if not self._pressed or self._seed is None:
            return None
        steps = round((x - self._seed[0]) / self.drag_px_per_step)
        tolerance = min(MAX_TOLERANCE, max(0, self._press_tolerance + steps))
        if tolerance == self.tolerance:
            return None
        bbox = self.set_tolerance(tolerance)
        if self.on_tolerance is not None:
            self.on_tolerance(tolerance)
        return bbox

    def release(self, x: float, y: float) -> BBox | None:
        bbox = self.move(x, y)
        self._pressed = False
        return bbox

    def set_tolerance(self, tolerance: int) -> BBox | None:
        """Change the tolerance; the last click's region follows while it is the newest edit."""
        self.tolerance = int(tolerance)
        doc = self.document
        if self._seed is None or doc is None:
            return None
        if self._owns_last_edit():
            undone = doc.undo()
            return union_bbox(undone, self._fill())
        if self._state is None and self._pressed:  # the first click changed nothing
            return self._fill()
        return None

    def cancel(self) -> BBox | None:
        self._seed = None
        self._pressed = False
        return None


class ScissorsTool(PolygonTool):
    """Polygon whose sides follow image edges: click points along an edge; a click on the
    first point, a double-click or Enter closes the outline and fills it with ``value``."""

    name = "scissors"
    close_radius = 6.0  # image px: a click this close to the first point closes the outline
    # (a window scales it with the zoom)

    def __init__(self, document: MaskDocument | None = None, value: int = 255):
        super().__init__(document, value)
        self.path: ScissorsPath | None = None
        self._path_document: MaskDocument | None = None  # the image the path was begun on

    @property
    def label(self) -> str:
        return "Intelligent scissors"

    @property
    def preview(self) -> list[Point]:
        if self.points and self.cursor is not None:
            return [*self.points, self.cursor]
        return list(self.points)

    def press(self, x: float, y: float) -> BBox | None:
        doc = self.document
        if doc is None:
            return None
        if self.path is None or self._path_document is not doc:
            self.path, self._path_document = ScissorsPath(doc.image), doc
        self.path.image = doc.image  # the next sides follow the image as shown now (contrast)
        anchors = self.path.anchors
        if len(anchors) >= 3:
            fx, fy = anchors[0]
            if math.hypot(x - fx, y - fy) <= self.close_radius:
                return self.finish()
        self.path.add(x, y)
        self.points = list(self.path.points)
        return None

    def finish(self) -> BBox | None:
        """Close and fill the outline; like a polygon's, it needs 3 points (fewer are dropped,
        however many the edge-following path between them has)."""
        enough = self.path is not None and len(self.path.anchors) >= 3
        self.points = self.path.closed() if enough else []
        self.path = None
        return super().finish()

    def cancel(self) -> BBox | None:
        self.path = None
        return super().cancel()


class RegionFixTool(Tool):
    """Click a wrongly predicted region: it becomes ``value`` (or, if the mask already has that
    class there, the class around it). Pressing on the region and releasing over another class
    gives it the class under the release point. Without a prediction on screen it works on the
    mask's own regions, and on unlabeled pixels of a sparse mask on the image's: the magic
    wand's region at its default tolerance, within the unlabeled pixels (never the whole image).
    A region is bounded to what is visibly one (``region_fix.visible_part``). In a trimap a pet
    and its border are one region."""

    name = "fix"
    label = "Fix region"
    click_px = 2.0  # image px a release may stray and still be a click (scaled with the zoom)

    def __init__(self, document: MaskDocument | None = None, value: int = 255,
                 limit: BBox | None = None, prediction: PredictionSource = _no_prediction):
        super().__init__(document)
        self.value = value
        self.limit = limit
        self.prediction = prediction
        self._press: Point | None = None

    def _labels(self) -> np.ndarray:
        found = self.prediction()
        return found[0] if found is not None else self.document.mask

    def press(self, x: float, y: float) -> BBox | None:
        self._press = (x, y) if self.document is not None else None
        return None

    def release(self, x: float, y: float) -> BBox | None:
        doc, press, self._press = self.document, self._press, None
        if doc is None or press is None:
            return None
        value = _paint_value(doc, self.value)
        ignore = doc.scheme.ignore_value
        if self.prediction() is None and ignore is not None and doc.value_at(*press) == ignore:
            return self._fill_unlabeled(doc, press, value, ignore)
        labels = self._labels().copy()  # the region is taken before the mask changes
        together = (1, 3) if doc.scheme.kind == "trimap" else ()  # a pet and its border
        to = None
        found = clicked_region(labels, *press, self.limit, together)
        if found is not None and math.hypot(x - press[0], y - press[1]) > self.click_px:
            (y0, x0, y1, x1), inside = found
            row, col = math.floor(y), math.floor(x)
            in_region = y0 <= row < y1 and x0 <= col < x1 and inside[row - y0, col - x0]
            release_value = doc.value_at(x, y)
            if not in_region and release_value is not None:
                to = _paint_value(doc, release_value)
        return doc.apply(fix_region(doc.mask, labels, *press, value, to, self.limit, self.label,
                                    together))

    def _fill_unlabeled(self, doc: MaskDocument, press: Point, value: int,
                        ignore: int) -> BBox | None:
        found = MagicWand(doc.image).region(*press, DEFAULT_TOLERANCE, self.limit)
        if found is None:
            return None
        (y0, x0, y1, x1), inside = found
        new = doc.mask[y0:y1, x0:x1].copy()
        new[inside & (new == ignore)] = value
        return doc.apply(delta_from_region(doc.mask, (y0, x0, y1, x1), new, self.label))

    def cancel(self) -> BBox | None:
        self._press = None
        return None
