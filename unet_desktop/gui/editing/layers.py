"""The mask overlay: a QGraphicsItem over an ARGB32 buffer that is recoloured by rectangles.

pyqtgraph's ``ImageItem.setImage`` re-renders the whole image, far too slow for painting on a
24 MP mask. This item keeps one premultiplied ARGB32 ``QImage`` that shares memory with a numpy
buffer; after an edit only the changed bbox is recoloured (a lookup table indexed by the stored
mask values) and only that rectangle is repainted.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsObject, QStyleOptionGraphicsItem, QWidget

from unet_desktop.core.labels import LabelScheme

BBox = tuple[int, int, int, int]  # (y0, x0, y1, x1), end-exclusive, image pixels
_OUTLINE_STRIP_ROWS = 256


def scheme_lut(scheme: LabelScheme) -> np.ndarray:
    """(256,) uint32 premultiplied ARGB colour per stored value; unused values transparent.

    A binary scheme's background is shown transparent so the image stays readable, unless the
    scheme has sparse labels: then "unlabeled" is the transparent value and painted background
    must show.
    """
    rgba = scheme.palette_rgba(255).astype(np.uint32)
    if scheme.kind == "binary" and scheme.ignore_value is None:
        rgba[scheme.classes[0].value] = 0
    argb = (rgba[:, 3] << 24) | (rgba[:, 0] << 16) | (rgba[:, 1] << 8) | rgba[:, 2]
    return argb.astype(np.uint32)


def outline_of(labels: np.ndarray) -> np.ndarray:
    """Boolean map of pixels whose 4-neighbour has a different value (region borders)."""
    edge = np.zeros(labels.shape, dtype=bool)
    dy = labels[1:, :] != labels[:-1, :]
    dx = labels[:, 1:] != labels[:, :-1]
    edge[1:, :] |= dy
    edge[:-1, :] |= dy
    edge[:, 1:] |= dx
    edge[:, :-1] |= dx
    return edge


class MaskLayer(QGraphicsObject):
    """Shows an HxW uint8 stored-value mask in the scheme's colours; updated by bbox."""

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self._mask: np.ndarray | None = None
        self._argb = np.zeros((1, 1), dtype=np.uint32)
        self._qimage = QImage()
        self._lut = np.zeros(256, dtype=np.uint32)
        self._outline_only = False
        self._outline_argb: int | None = None  # one colour for every outline (None: class's)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    # --- state ---------------------------------------------------------------------------------
    @property
    def mask(self) -> np.ndarray | None:
        """The mask shown (by reference), None when empty."""
        return self._mask

    @property
    def outline_only(self) -> bool:
        return self._outline_only

    def set_outline_only(self, on: bool) -> None:
        if on != self._outline_only:
            self._outline_only = on
            self.refresh()

    def set_outline_color(self, rgba: tuple[int, int, int, int] | None) -> None:
        """Draw outlines in one colour (e.g. a prediction over a mask of the same colours)."""
        if rgba is None:
            self._outline_argb = None
        else:  # premultiplied ARGB32, like the buffer
            r, g, b, alpha = (int(v) for v in rgba)
            r, g, b = (v * alpha // 255 for v in (r, g, b))
            self._outline_argb = (alpha << 24) | (r << 16) | (g << 8) | b
        self.refresh()

    def set_mask(self, mask: np.ndarray | None, scheme: LabelScheme | None = None) -> None:
        """Show ``mask`` (kept by reference: edits to it appear after :meth:`update_region`)."""
        self.prepareGeometryChange()
        if scheme is not None:
            self._lut = scheme_lut(scheme)
        self._mask = mask
        if mask is None:
            self._argb = np.zeros((1, 1), dtype=np.uint32)
            self._qimage = QImage()
        else:
            self._recolour_all()
        self.update()

    def refresh(self) -> None:
        """Recolour everything (after a scheme or outline change)."""
        if self._mask is not None and self._outline_only:
            self._recolour_all()
        elif self._mask is not None:  # in place: callers may hold pixels_argb()
            self._recolour((0, 0, *self._mask.shape))
        self.update()

    def update_region(self, bbox: BBox | None) -> None:
        """Recolour and repaint only ``bbox`` after the mask changed there."""
        if self._mask is None or bbox is None:
            return
        y0, x0, y1, x1 = bbox
        if self._outline_only:  # a change moves borders one pixel beyond the edited box
            y0, x0 = y0 - 1, x0 - 1
            y1, x1 = y1 + 1, x1 + 1
        h, w = self._mask.shape
        y0, x0, y1, x1 = max(0, y0), max(0, x0), min(h, y1), min(w, x1)
        if y1 <= y0 or x1 <= x0:
            return
        self._recolour((y0, x0, y1, x1))
        self.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    def _recolour_all(self) -> None:
        """Colour the whole mask into a new buffer: zeroed for outlines (which then touch only
        their own pixels), gathered at once for filled regions, or one colour when the mask is
        one value (a new image's empty mask costs nothing)."""
        h, w = self._mask.shape
        uniform = not self._outline_only and self._mask.min() == self._mask.max()
        if self._outline_only or (uniform and self._lut[self._mask.flat[0]] == 0):
            self._argb = np.zeros((h, w), dtype=np.uint32)
        elif uniform:
            self._argb = np.full((h, w), self._lut[self._mask.flat[0]], dtype=np.uint32)
        else:
            self._argb = self._lut[self._mask]
        self._qimage = QImage(
            self._argb.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied
        )
        if self._outline_only:
            self._recolour((0, 0, h, w), cleared=True)

    def _recolour(self, bbox: BBox, cleared: bool = False) -> None:
        y0, x0, y1, x1 = bbox
        if not self._outline_only:
            self._argb[y0:y1, x0:x1] = self._lut[self._mask[y0:y1, x0:x1]]
            return
        for top in range(y0, y1, _OUTLINE_STRIP_ROWS):  # strips: small temporaries
            bottom = min(y1, top + _OUTLINE_STRIP_ROWS)
            shown = self._argb[top:bottom, x0:x1]
            if not cleared:
                shown.fill(0)
            rows, cols = self._outline_pixels((top, x0, bottom, x1))
            # borders are few pixels: colour only them (a masked write over every pixel
            # took seconds on an 8000x8000 prediction)
            shown[rows, cols] = (self._lut[self._mask[top:bottom, x0:x1][rows, cols]]
                                 if self._outline_argb is None else self._outline_argb)

    def _outline_pixels(self, bbox: BBox) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cols) in ``bbox`` of the region borders, relative to the box."""
        y0, x0, y1, x1 = bbox
        h, w = self._mask.shape
        # one pixel of context on each side so borders at the box edge are right
        cy0, cx0, cy1, cx1 = max(0, y0 - 1), max(0, x0 - 1), min(h, y1 + 1), min(w, x1 + 1)
        edge = outline_of(self._mask[cy0:cy1, cx0:cx1])
        return np.nonzero(edge[y0 - cy0 : y0 - cy0 + (y1 - y0), x0 - cx0 : x0 - cx0 + (x1 - x0)])

    def pixels_argb(self) -> np.ndarray:
        """The displayed colours (HxW uint32 ARGB); for tests and screenshots."""
        return self._argb

    # --- QGraphicsItem -------------------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        if self._mask is None:
            return QRectF()
        h, w = self._mask.shape
        return QRectF(0, 0, w, h)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self._mask is None:
            return
        h, w = self._mask.shape
        exposed = option.exposedRect.intersected(QRectF(0, 0, w, h))
        if exposed.isEmpty():
            return
        # whole source pixels covering the exposed area, drawn without smoothing
        src = exposed.toAlignedRect().intersected(self._qimage.rect())
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(QRectF(src), self._qimage, QRectF(src))
