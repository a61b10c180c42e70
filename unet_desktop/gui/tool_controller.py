"""Routes canvas mouse events to the core's mouse tools and holds the tool settings.

The settings (active tool, brush size, class value) live here and are the truth that the tool
dock and the actions mirror. The tools themselves are the Qt-free objects of
:mod:`unet_desktop.core.tools`; their changes reach the view through the document's listener
(``EditingSession.mask_changed``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from unet_desktop.core.edit_ops import MAX_BRUSH, MIN_BRUSH, BBox
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.tools import (
    DEFAULT_BRUSH_SIZE,
    BrushTool,
    EraserTool,
    EyedropperTool,
    FillTool,
    PolygonTool,
    Tool,
)
from unet_desktop.gui.canvas import Canvas
from unet_desktop.gui.session import EditingSession

TOOL_TITLES = {
    "brush": "Brush",
    "eraser": "Eraser",
    "fill": "Flood fill",
    "polygon": "Polygon fill",
    "lasso": "Lasso fill",
    "eyedropper": "Eyedropper",
}
SIZED_TOOLS = ("brush", "eraser")


def default_value(scheme: LabelScheme) -> int:
    """The class a new session paints with: the foreground, or the first class."""
    fg = scheme.foreground_value
    return fg if fg is not None else scheme.classes[0].value


class ToolController(QObject):
    """Active tool, brush size and class value; forwards canvas events to the tool."""

    tool_changed = Signal(str)
    size_changed = Signal(int)
    value_changed = Signal(int)

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
        }
        self._name = "brush"
        self._previous = "brush"
        self._size = min(MAX_BRUSH, max(MIN_BRUSH, size))
        self._value = 255
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

    def reset_for_scheme(self, scheme: LabelScheme) -> None:
        if self._value not in scheme.valid_values:
            self.set_value(default_value(scheme))

    def _apply_settings(self) -> None:
        for tool in self._tools.values():
            if hasattr(tool, "size"):
                tool.size = self._size
            if hasattr(tool, "value") and not isinstance(tool, EraserTool):
                tool.value = self._value
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

    def _on_pressed(self, x: float, y: float) -> None:
        self._after(self.tool.press(x, y), finished=False)

    def _on_moved(self, x: float, y: float) -> None:
        self.tool.move(x, y)
        self._update_preview()

    def _on_released(self, x: float, y: float) -> None:
        self._after(self.tool.release(x, y), finished=True)
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
        self._canvas.set_polygon_preview(tool.preview if isinstance(tool, PolygonTool) else [])

    def finish_polygon(self) -> None:
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
