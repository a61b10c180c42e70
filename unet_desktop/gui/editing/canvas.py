"""The central canvas: the image (pyqtgraph ImageItem), the overlays and tool input.

Overlays, bottom to top: the editable mask, the model's uncertainty (heat map), the model's
prediction (its own layer, outlines by default, never the editable mask), the polygon preview
(also a scissors path or a box-refining stroke), the box being dragged and the brush cursor. A
new image clears the prediction overlays: a prediction is only ever shown over the image it was
made for.

The canvas knows nothing about tools or documents. It shows an image and a mask, zooms and pans,
and reports the left mouse button as ``tool_pressed/moved/released`` in *image* coordinates
(x right, y down, pixel (r, c) covers [c, c+1) x [r, r+1)). A middle button drag pans the view,
a right button drag zooms it (pyqtgraph's ViewBox), the wheel zooms at the cursor.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsRectItem, QWidget

from unet_desktop.core.editing.brush import snap_brush_centre
from unet_desktop.core.labels import LabelScheme
from unet_desktop.gui.editing.layers import BBox, MaskLayer
from unet_desktop.gui.editing.uncertainty_layer import UncertaintyLayer

PREDICTION_OUTLINE = (0, 230, 255, 255)  # cyan: apart from every class colour of the mask


def prediction_outline_colour(scheme: LabelScheme) -> tuple[int, int, int, int] | None:
    """One cyan for a binary or trimap prediction's outlines; a multi-class prediction's
    outlines in its classes' colours (each side of a border in its own class), else one colour
    for every border of many classes says where they lie but not which class is where."""
    return None if scheme.kind == "multiclass" else PREDICTION_OUTLINE


class Canvas(pg.GraphicsView):
    """Image + mask view with zoom, pan, fit, a brush-size cursor and a polygon preview."""

    tool_pressed = Signal(float, float)
    tool_moved = Signal(float, float)
    tool_released = Signal(float, float)
    tool_double_clicked = Signal(float, float)
    pointer_moved = Signal(float, float)
    pointer_left = Signal()
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=QColor(40, 40, 40))
        self.view_box = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view_box.setMouseMode(pg.ViewBox.PanMode)
        self.setCentralItem(self.view_box)
        self.image_item = pg.ImageItem(axisOrder="row-major")
        self.image_item.setZValue(0)
        self.mask_layer = MaskLayer()
        self.mask_layer.setZValue(1)
        self.uncertainty_layer = UncertaintyLayer()
        self.uncertainty_layer.setZValue(1.2)
        self.prediction_layer = MaskLayer()
        self.prediction_layer.setZValue(1.5)
        self.prediction_layer.set_outline_only(True)
        self._prediction_outline: tuple[int, int, int, int] | None = PREDICTION_OUTLINE
        self.prediction_layer.set_outline_color(PREDICTION_OUTLINE)
        self._polygon_item = QGraphicsPathItem()
        self._polygon_item.setPen(_cosmetic_pen(QColor(255, 255, 0), 1.5))
        self._polygon_item.setZValue(2)
        self._box_item = QGraphicsRectItem()
        box_pen = _cosmetic_pen(QColor(255, 255, 0), 1.5)
        box_pen.setStyle(Qt.PenStyle.DashLine)
        self._box_item.setPen(box_pen)
        self._box_item.setZValue(2)
        self._box_item.hide()
        self._cursor_item = QGraphicsEllipseItem()
        self._cursor_item.setPen(_cosmetic_pen(QColor(255, 255, 255), 1.0))
        self._cursor_item.setZValue(3)
        self._cursor_item.hide()
        for item in (self.image_item, self.mask_layer, self.uncertainty_layer,
                     self.prediction_layer, self._polygon_item, self._box_item,
                     self._cursor_item):
            self.view_box.addItem(item, ignoreBounds=item is not self.image_item)
        self._image_shape: tuple[int, int] | None = None
        self._cursor_diameter = 0.0
        self._dragging = False
        self.view_box.sigRangeChanged.connect(self._on_range_changed)

    # --- content -------------------------------------------------------------------------------
    def set_content(self, image: np.ndarray, mask: np.ndarray, scheme: LabelScheme) -> None:
        """Show a new image with its mask (kept by reference) and fit it to the window."""
        self.image_item.setImage(image, autoLevels=False, levels=(0, 255))
        self.mask_layer.set_mask(mask, scheme)
        self.clear_prediction()
        self._image_shape = image.shape[:2]
        self.set_polygon_preview([])
        self.fit_to_window()

    def clear_content(self) -> None:
        self.image_item.clear()
        self.mask_layer.set_mask(None)
        self.clear_prediction()
        self._image_shape = None
        self.set_polygon_preview([])

    def update_mask_region(self, bbox: BBox | None) -> None:
        self.mask_layer.update_region(bbox)

    def refresh_mask(self) -> None:
        self.mask_layer.refresh()

    @property
    def image_shape(self) -> tuple[int, int] | None:
        return self._image_shape

    def set_prediction(self, labels: np.ndarray, uncertainty: np.ndarray | None,
                       scheme: LabelScheme) -> bool:
        """Show a prediction of the image on screen; False (nothing shown) if the shapes
        differ from the image's."""
        if self._image_shape is None or labels.shape != self._image_shape:
            return False
        colour = prediction_outline_colour(scheme)
        if colour != self._prediction_outline:
            self._prediction_outline = colour
            self.prediction_layer.set_outline_color(colour)
        self.prediction_layer.set_mask(labels, scheme)
        if uncertainty is not None and uncertainty.shape == self._image_shape:
            self.uncertainty_layer.set_uncertainty(uncertainty)
        else:
            self.uncertainty_layer.set_uncertainty(None)
        return True

    def clear_prediction(self) -> None:
        self.prediction_layer.set_mask(None)
        self.uncertainty_layer.set_uncertainty(None)

    def has_prediction(self) -> bool:
        return self.prediction_layer.mask is not None

    # --- view options --------------------------------------------------------------------------
    def set_mask_opacity(self, opacity: float) -> None:
        self.mask_layer.setOpacity(min(1.0, max(0.0, opacity)))

    def set_mask_visible(self, visible: bool) -> None:
        self.mask_layer.setVisible(visible)

    def set_outline_only(self, on: bool) -> None:
        self.mask_layer.set_outline_only(on)

    def set_prediction_visible(self, visible: bool) -> None:
        self.prediction_layer.setVisible(visible)

    def set_prediction_opacity(self, opacity: float) -> None:
        self.prediction_layer.setOpacity(min(1.0, max(0.0, opacity)))

    def set_prediction_outline(self, on: bool) -> None:
        self.prediction_layer.set_outline_only(on)

    def set_uncertainty_visible(self, visible: bool) -> None:
        self.uncertainty_layer.set_shown(visible)

    def fit_to_window(self) -> None:
        if self._image_shape is None:
            return
        h, w = self._image_shape
        self.view_box.setRange(QRectF(0, 0, w, h), padding=0.02)

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out around the centre of the view."""
        self.view_box.scaleBy((1 / factor, 1 / factor))

    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        px, _ = self.view_box.viewPixelSize()
        return 1.0 / px if px > 0 else 1.0

    # --- overlays ------------------------------------------------------------------------------
    def set_cursor_diameter(self, diameter: float) -> None:
        """Show a circle of ``diameter`` image pixels at the pointer, around the pixels a brush
        of that size paints there (0 hides it)."""
        self._cursor_diameter = float(diameter)
        if diameter <= 0:
            self._cursor_item.hide()

    def _move_cursor(self, x: float, y: float) -> None:
        if self._cursor_diameter <= 0:
            return
        d = self._cursor_diameter
        x, y = snap_brush_centre(x, y, round(d))  # around the pixels a click paints
        self._cursor_item.setRect(QRectF(x - d / 2, y - d / 2, d, d))
        self._cursor_item.show()

    def set_polygon_preview(self, points: list[tuple[float, float]]) -> None:
        """Draw the open polygon/lasso being built (image coordinates)."""
        path = QPainterPath()
        if points:
            path.moveTo(QPointF(*points[0]))
            for p in points[1:]:
                path.lineTo(QPointF(*p))
        self._polygon_item.setPath(path)

    def set_box_preview(self, box: tuple[int, int, int, int] | None) -> None:
        """Draw the box being dragged (``(y0, x0, y1, x1)`` image pixels), or hide it."""
        if box is None:
            self._box_item.hide()
            return
        y0, x0, y1, x1 = box
        self._box_item.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self._box_item.show()

    def box_preview_rect(self) -> QRectF | None:
        """The box shown, for tests and screenshots."""
        return self._box_item.rect() if self._box_item.isVisible() else None

    # --- mouse ---------------------------------------------------------------------------------
    def image_pos(self, widget_pos: QPoint) -> tuple[float, float]:
        """Image coordinates of a point in viewport (widget) pixels."""
        p = self.view_box.mapSceneToView(self.mapToScene(widget_pos))
        return p.x(), p.y()

    def widget_pos(self, x: float, y: float) -> QPoint:
        """Viewport pixel of image coordinates (for tests and screenshots)."""
        return self.mapFromScene(self.view_box.mapViewToScene(QPointF(x, y)))

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self._image_shape is not None:
            self._dragging = True
            x, y = self.image_pos(ev.position().toPoint())
            self._move_cursor(x, y)
            self.tool_pressed.emit(x, y)
            ev.accept()
            return
        super().mousePressEvent(ev)

    def mouseMoveEvent(self, ev: QMouseEvent) -> None:
        x, y = self.image_pos(ev.position().toPoint())
        self._move_cursor(x, y)
        self.pointer_moved.emit(x, y)
        if self._dragging:
            self.tool_moved.emit(x, y)
            ev.accept()
            return
        super().mouseMoveEvent(ev)

    def mouseReleaseEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self._dragging:
            self._dragging = False
            self.tool_released.emit(*self.image_pos(ev.position().toPoint()))
            ev.accept()
            return
        super().mouseReleaseEvent(ev)

    def mouseDoubleClickEvent(self, ev: QMouseEvent) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self._image_shape is not None:
            self.tool_double_clicked.emit(*self.image_pos(ev.position().toPoint()))
            ev.accept()
            return
        super().mouseDoubleClickEvent(ev)

    def leaveEvent(self, ev) -> None:
        self._cursor_item.hide()
        self.pointer_left.emit()
        super().leaveEvent(ev)

    def _on_range_changed(self, *_args) -> None:
        self.zoom_changed.emit(self.zoom())


def _cosmetic_pen(color: QColor, width: float) -> QPen:
    pen = QPen(color, width)
    pen.setCosmetic(True)  # constant width on screen at every zoom
    return pen
