"""Mouse tools for the mask editor, as plain objects without Qt.

A canvas forwards mouse events in IMAGE pixel coordinates (floats; pixel ``(row, col)`` covers
``[col, col + 1) x [row, row + 1)``) to the active tool's ``press`` / ``move`` / ``release``.
Each returns the box ``(y0, x0, y1, x1)`` of the mask that changed, or ``None``; the canvas
repaints only that box. Settings such as ``size`` and ``value`` are plain attributes the caller
sets; ``document`` is the :class:`MaskDocument` being edited and may be swapped between images
(``None`` makes every event a no-op).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from unet_desktop.core.editing.brush import brush_segment
from unet_desktop.core.editing.delta import BBox, Point
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.editing.fills import flood_fill, polygon_fill
from unet_desktop.core.editing.mask_values import background_value, erase_value

DEFAULT_BRUSH_SIZE = 15  # px; the window's default too (gui.settings reads it)
POLYGON_CLOSE_RADIUS = 4.0  # image px: a click this close to the first vertex closes the polygon


def _paint_value(document: MaskDocument, value: int) -> int:
    if value not in document.scheme.valid_values:
        raise ValueError(
            f"value {value} is not part of the {document.scheme.kind} scheme "
            f"{sorted(document.scheme.valid_values)}"
        )
    return value


class Tool:
    """Base class: every event is a no-op returning ``None``."""

    name = "tool"

    def __init__(self, document: MaskDocument | None = None):
        self.document = document

    def press(self, x: float, y: float) -> BBox | None:
        return None

    def move(self, x: float, y: float) -> BBox | None:
        return None

    def release(self, x: float, y: float) -> BBox | None:
        return None

    def double_click(self, x: float, y: float) -> BBox | None:
        return None

    def cancel(self) -> BBox | None:
        """Abort what is in progress (Escape, or the image or tool changes)."""
        return None


class BrushTool(Tool):
    """Round brush of ``size`` px diameter painting ``value``; one drag = one undo step, also
    across a save part-way (``MaskDocument.mark_saved``); an undo part-way ends the drag
    (the brush paints again at the next press).

    ``protect`` is an optional value that the brush never overwrites.
    """

    name = "brush"
    label = "Brush stroke"

    def __init__(
        self,
        document: MaskDocument | None = None,
        size: int = DEFAULT_BRUSH_SIZE,
        value: int = 255,
        protect: int | None = None,
    ):
        super().__init__(document)
        self.size = size
        self.value = value
        self.protect = protect
        self._last: Point | None = None
        self._stroke_value = 0

    @property
    def active(self) -> bool:
        return self._last is not None

    def _current_value(self, document: MaskDocument) -> int:
        return _paint_value(document, self.value)

    def _segment(self, document: MaskDocument, a: Point, b: Point) -> BBox | None:
        delta = brush_segment(
            document.mask, a, b, self.size, self._stroke_value, self.label, self.protect
        )
        return document.apply(delta)

    def press(self, x: float, y: float) -> BBox | None:
        doc = self.document
        if doc is None:
            return None
        self._stroke_value = self._current_value(doc)
        doc.begin_stroke(self.label)
        self._last = (x, y)
        return self._segment(doc, (x, y), (x, y))

    def move(self, x: float, y: float) -> BBox | None:
        doc = self.document
        if doc is None or self._last is None:
            return None
        if not doc.in_stroke:  # an undo or another edit ended the drag (a save does not)
            self._last = None
            return None
        a, self._last = self._last, (x, y)
        return self._segment(doc, a, (x, y))

    def release(self, x: float, y: float) -> BBox | None:
        doc = self.document
        if doc is None or self._last is None:
            return None
        bbox = self.move(x, y) if (x, y) != self._last else None
        self._last = None
        doc.end_stroke()
        return bbox

    def cancel(self) -> BBox | None:
        """Ends the stroke, keeping what was painted (it can be undone as one step)."""
        if self._last is not None and self.document is not None:
            self.document.end_stroke()
        self._last = None
        return None


class EraserTool(BrushTool):
    """Brush that paints the scheme's erase value (see :func:`mask_values.erase_value`: unlabeled
    where the scheme has an unlabeled value, else background) unless ``value`` is set;
    ``to_background`` makes it paint the background class instead of unlabeled."""

    name = "eraser"
    label = "Erase"

    def __init__(
        self,
        document: MaskDocument | None = None,
        size: int = DEFAULT_BRUSH_SIZE,
        value: int | None = None,
    ):
        super().__init__(document, size, 0)
        self.value = value  # type: ignore[assignment]
        self.to_background = False

    def _current_value(self, document: MaskDocument) -> int:
        if self.value is None and self.to_background:
            return background_value(document.scheme)
        if self.value is None:
            return erase_value(document.scheme)
        return _paint_value(document, self.value)


class FillTool(Tool):
    """Click to flood-fill the 4-connected region under the cursor with ``value``.

    ``limit`` optionally restricts the fill to a box (e.g. the visible part of the image).
    """

    name = "fill"

    def __init__(
        self, document: MaskDocument | None = None, value: int = 255, limit: BBox | None = None
    ):
        super().__init__(document)
        self.value = value
        self.limit = limit

    def press(self, x: float, y: float) -> BBox | None:
        doc = self.document
        if doc is None:
            return None
        value = _paint_value(doc, self.value)
        return doc.apply(flood_fill(doc.mask, x, y, value, self.limit))


class PolygonTool(Tool):
    """Filled polygon: each press adds a vertex; a double-click, a press near the first vertex
    or :meth:`finish` closes and fills it.

    With ``lasso=True`` it is a freehand lasso instead: press starts the path, moves extend it
    and release closes and fills it. ``points`` / ``preview`` give the outline to draw.
    """

    name = "polygon"
    close_radius = POLYGON_CLOSE_RADIUS  # image px (a window scales it with the zoom)

    def __init__(
        self, document: MaskDocument | None = None, value: int = 255, lasso: bool = False
    ):
        super().__init__(document)
        self.value = value
        self.lasso = lasso
        self.points: list[Point] = []
        self.cursor: Point | None = None
        self._dragging = False

    @property
    def label(self) -> str:
        return "Lasso fill" if self.lasso else "Polygon fill"

    @property
    def preview(self) -> list[Point]:
        """The vertices plus the cursor position, for drawing the open outline."""
        if self.points and self.cursor is not None and not self.lasso:
            return [*self.points, self.cursor]
        return list(self.points)

    def press(self, x: float, y: float) -> BBox | None:
        if self.document is None:
            return None
        if self.lasso:
            self.points = [(x, y)]
            self._dragging = True
            return None
        if len(self.points) >= 3:
            fx, fy = self.points[0]
            if math.hypot(x - fx, y - fy) <= self.close_radius:
                return self.finish()
        self.points.append((x, y))
        return None

    def move(self, x: float, y: float) -> BBox | None:
        self.cursor = (x, y)
        if self.lasso and self._dragging:
            lx, ly = self.points[-1]
            if math.hypot(x - lx, y - ly) >= 0.5:
                self.points.append((x, y))
        return None

    def release(self, x: float, y: float) -> BBox | None:
        if self.lasso and self._dragging:
            self.move(x, y)
            self._dragging = False
            return self.finish()
        return None

    def double_click(self, x: float, y: float) -> BBox | None:
        # Qt sends press, release, double-click: the vertex is already there from the press.
        return self.finish()

    def finish(self) -> BBox | None:
        """Close and fill the polygon (needs 3 vertices; fewer are dropped)."""
        points, self.points = self.points, []
        self._dragging = False
        doc = self.document
        if doc is None or len(points) < 3:
            return None
        value = _paint_value(doc, self.value)
        return doc.apply(polygon_fill(doc.mask, points, value, self.label))

    def cancel(self) -> BBox | None:
        self.points = []
        self._dragging = False
        return None


class EyedropperTool(Tool):
    """Picks the mask value under the cursor (while pressed); never changes the mask.

    The value is kept in ``picked`` and passed to ``on_pick`` (e.g. to select that class).
    """

    name = "eyedropper"

    def __init__(
        self,
        document: MaskDocument | None = None,
        on_pick: Callable[[int], None] | None = None,
    ):
        super().__init__(document)
        self.on_pick = on_pick
        self.picked: int | None = None
        self._pressed = False

    def pick(self, x: float, y: float) -> int | None:
        value = self.document.value_at(x, y) if self.document is not None else None
        if value is not None:
            self.picked = value
            if self.on_pick is not None:
                self.on_pick(value)
        return value

    def press(self, x: float, y: float) -> BBox | None:
        self._pressed = True
        self.pick(x, y)
        return None

    def move(self, x: float, y: float) -> BBox | None:
        if self._pressed:
            self.pick(x, y)
        return None

    def release(self, x: float, y: float) -> BBox | None:
        self._pressed = False
        return None
