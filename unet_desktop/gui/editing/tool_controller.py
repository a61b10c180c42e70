"""Routes canvas mouse events to the core's mouse tools and holds the tool settings.

The settings (active tool, brush size, class value) live here and are the truth that the tool
dock and the actions mirror. The tools themselves are the Qt-free objects of
:mod:`unet_desktop.core.editing.tools`; their changes reach the view through the document's listener
(``EditingSession.mask_changed``).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from unet_desktop.core.editing.brush import MAX_BRUSH, MIN_BRUSH
from unet_desktop.core.editing.delta import BBox
from unet_desktop.core.editing.tools import (
    DEFAULT_BRUSH_SIZE,
    BrushTool,
    EraserTool,
    EyedropperTool,
    FillTool,
    PolygonTool,
    Tool,
)
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.smart.accept_tool import AcceptPredictionTool
from unet_desktop.core.smart.magic_wand import DEFAULT_TOLERANCE, MAX_TOLERANCE
from unet_desktop.core.smart.smart_tools import (
    BoxTool,
    PredictionSource,
    RegionFixTool,
    ScissorsTool,
    WandTool,
)
from unet_desktop.gui.editing.canvas import Canvas
from unet_desktop.gui.editing.session import EditingSession

TOOL_TITLES = {
    "brush": "Brush",
    "eraser": "Eraser",
    "fill": "Flood fill",
    "polygon": "Polygon fill",
    "lasso": "Lasso fill",
    "eyedropper": "Eyedropper",
    "box": "Box to mask",
    "wand": "Magic wand",
    "scissors": "Scissors",
    "fix": "Fix region",
    "accept": "Accept prediction here",
}
SIZED_TOOLS = ("brush", "eraser", "accept")
LIMITED_TOOLS = ("wand", "fix", "accept")  # work in the visible part of a large image
LARGE_IMAGE_PIXELS = 16_000_000
CLOSE_SCREEN_PX = 6.0  # a click this close to a polygon's first point on screen closes it


def default_value(scheme: LabelScheme) -> int:
    """The class a new session paints with: the foreground, or the first class."""
    fg = scheme.foreground_value
    return fg if fg is not None else scheme.classes[0].value


class ToolController(QObject):
    """Active tool, brush size and class value; forwards canvas events to the tool."""

    tool_changed = Signal(str)
    size_changed = Signal(int)
    value_changed = Signal(int)
    tolerance_changed = Signal(int)
    message = Signal(str)  # a tool's word on what it could not do (the status bar shows it)

    def __init__(
        self, session: EditingSession, canvas: Canvas, size: int = DEFAULT_BRUSH_SIZE,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._canvas = canvas
        self._tools: dict[str, Tool] = {
            "brush": BrushTool(),
            "eraser": EraserTool(),
            "fill": FillTool(),
            "polygon": PolygonTool(),
            "lasso": PolygonTool(lasso=True),
            "eyedropper": EyedropperTool(on_pick=self._on_pick),
            "box": BoxTool(),
            "wand": WandTool(on_tolerance=self._on_wand_tolerance),
            "scissors": ScissorsTool(),
            "fix": RegionFixTool(),
            "accept": AcceptPredictionTool(),
        }
        self._name = "brush"
        self._previous = "brush"
        self._size = min(MAX_BRUSH, max(MIN_BRUSH, size))
        self._value = 255
        self._tolerance = DEFAULT_TOLERANCE
        self._apply_settings()
        canvas.tool_pressed.connect(self._on_pressed)
        canvas.tool_moved.connect(self._on_moved)
        canvas.tool_released.connect(self._on_released)
        canvas.tool_double_clicked.connect(self._on_double_clicked)
        session.document_opened.connect(self._on_document_opened)

    # --- settings ------------------------------------------------------------------------------
    @property
    def tool_name(self) -> str:
        return self._name

    @property
    def tool(self) -> Tool:
        return self._tools[self._name]

    @property
    def size(self) -> int:
        return self._size

    @property
    def value(self) -> int:
        return self._value

    @property
    def tolerance(self) -> int:
        return self._tolerance

    def set_tolerance(self, tolerance: int) -> None:
        """The magic wand's tolerance; the last wand click follows it while it is the newest
        edit (live, as a slider moves)."""
        tolerance = min(MAX_TOLERANCE, max(0, int(tolerance)))
        if tolerance == self._tolerance:
            return
        self._tolerance = tolerance
        wand = self._tools["wand"]
        if wand.set_tolerance(tolerance) is not None:
            self._session.edit_finished()
        self.tolerance_changed.emit(tolerance)

    def set_prediction_source(self, source: PredictionSource) -> None:
        """Where the box, fix and accept tools get the prediction shown on the image (or None)."""
        for name in ("box", "fix", "accept"):
            self._tools[name].prediction = source

    def set_tool(self, name: str) -> None:
        if name not in self._tools:
            raise ValueError(f"unknown tool {name!r}; tools: {', '.join(self._tools)}")
        if name == self._name:
            return
        self.cancel()
        if name == "eyedropper":
            self._previous = self._name
        self._name = name
        self._update_cursor()
        self.tool_changed.emit(name)

    def set_size(self, size: int) -> None:
        size = min(MAX_BRUSH, max(MIN_BRUSH, int(size)))
        if size != self._size:
            self._size = size
            self._apply_settings()
            self.size_changed.emit(size)

    def change_size(self, steps: int) -> None:
        """``]`` / ``[``: about 15 % bigger or smaller per step, at least 1 px."""
        size = self._size
        for _ in range(abs(steps)):
            step = max(1, round(size * 0.15))
            size = size + step if steps > 0 else size - step
        self.set_size(size)

    def set_value(self, value: int) -> None:
        if value != self._value:
            self._value = int(value)
            self._apply_settings()
            self.value_changed.emit(self._value)

    @property
    def eraser_to_background(self) -> bool:
        return self._tools["eraser"].to_background

    def set_eraser_to_background(self, on: bool) -> None:
        """What the eraser paints: unlabeled (where the task has sparse labels) or background."""
        self._tools["eraser"].to_background = bool(on)

    def reset_for_scheme(self, scheme: LabelScheme, classes_only: bool = False) -> None:
        """Paint the default class if the current value is not one of ``scheme``'s (with
        ``classes_only``, as when a folder opens, "unlabeled" is not kept either)."""
        allowed = scheme.stored_values if classes_only else scheme.valid_values
        if self._value not in allowed:
            self.set_value(default_value(scheme))

    def _apply_settings(self) -> None:
        for tool in self._tools.values():
            if hasattr(tool, "size"):
                tool.size = self._size
            if hasattr(tool, "value") and not isinstance(tool, EraserTool):
                tool.value = self._value
            if isinstance(tool, WandTool):
                tool.tolerance = self._tolerance
        self._update_cursor()

    def _update_cursor(self) -> None:
        self._canvas.set_cursor_diameter(self._size if self._name in SIZED_TOOLS else 0)

    # --- events --------------------------------------------------------------------------------
    def _on_document_opened(self) -> None:
        for tool in self._tools.values():
            tool.cancel()
            tool.document = self._session.document
        if self._session.document is not None:
            self.reset_for_scheme(self._session.document.scheme)
        self._canvas.set_polygon_preview([])
        self._canvas.set_box_preview(None)

    def _on_pressed(self, x: float, y: float) -> None:
        tool = self.tool
        if self._name in LIMITED_TOOLS:
            tool.limit = self._visible_box()
        zoom = max(self._canvas.zoom(), 1e-6)  # screen px per image px
        if isinstance(tool, PolygonTool):  # the first point is as easy to hit at every zoom
            tool.close_radius = CLOSE_SCREEN_PX / zoom
        if isinstance(tool, (AcceptPredictionTool, RegionFixTool)):  # click or drag: on screen
            tool.click_px = QApplication.startDragDistance() / zoom
        if isinstance(tool, WandTool):  # 2 screen px of sideways drag per tolerance step
            tool.drag_px_per_step = 2.0 / zoom
        self._after(tool.press(x, y), finished=False)

    def _on_moved(self, x: float, y: float) -> None:
        self.tool.move(x, y)
        self._update_preview()

    def _on_released(self, x: float, y: float) -> None:
        busy = self._name == "box"  # a cut may take a moment on a large box: say so
        if busy:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            bbox = self.tool.release(x, y)
        finally:
            if busy:
                QApplication.restoreOverrideCursor()
        self._after(bbox, finished=True)
        note = getattr(self.tool, "message", None)
        if note:
            self.message.emit(note)
        if self._name == "eyedropper":  # one pick, then back to the tool it was picked for
            self.set_tool(self._previous)

    def _on_double_clicked(self, x: float, y: float) -> None:
        self._after(self.tool.double_click(x, y), finished=True)

    def _after(self, bbox: BBox | None, finished: bool) -> None:
        self._update_preview()
        if bbox is not None or finished:
            self._session.edit_finished()

    def _update_preview(self) -> None:
        tool = self.tool
        self._canvas.set_polygon_preview(list(getattr(tool, "preview", [])))
        self._canvas.set_box_preview(getattr(tool, "box_preview", None))

    def _visible_box(self) -> BBox | None:
        """The part of a large image on screen (with a margin), else None (the whole image)."""
        shape = self._canvas.image_shape
        if shape is None or shape[0] * shape[1] <= LARGE_IMAGE_PIXELS:
            return None
        (vx0, vx1), (vy0, vy1) = self._canvas.view_box.viewRange()
        mx, my = (vx1 - vx0) / 4, (vy1 - vy0) / 4
        return (math.floor(vy0 - my), math.floor(vx0 - mx), math.ceil(vy1 + my),
                math.ceil(vx1 + mx))

    def _on_wand_tolerance(self, tolerance: int) -> None:
        """A drag with the wand changed the tolerance: the truth follows, the dock mirrors."""
        self._tolerance = tolerance
        self.tolerance_changed.emit(tolerance)

    def finish_polygon(self) -> None:
        """Enter: close the open polygon or scissors outline."""
        tool = self.tool
        if isinstance(tool, PolygonTool):
            tool.finish()
            self._update_preview()
            self._session.edit_finished()

    def cancel(self) -> None:
        """Escape: drop an open polygon, end a stroke."""
        self.tool.cancel()
        self._update_preview()

    def _on_pick(self, value: int) -> None:
        self.set_value(value)
