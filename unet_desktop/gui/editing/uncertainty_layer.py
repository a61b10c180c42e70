"""The uncertainty overlay: the model's per-pixel uncertainty as a heat map over the image.

Sure pixels are transparent, unsure ones glow from dark red through orange to pale yellow, so the
places that need a look stand out while the image stays readable.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

# (position 0..1, r, g, b, alpha) stops of the colour ramp
_HEAT_STOPS = np.array([
    (0.00, 0, 0, 0, 0),
    (0.15, 90, 0, 30, 60),
    (0.40, 200, 30, 20, 150),
    (0.70, 255, 140, 0, 200),
    (1.00, 255, 250, 160, 230),
], dtype=np.float64)


def heat_lut() -> np.ndarray:
    """(256, 4) uint8 RGBA colour for uncertainty i / 255."""
    x = np.linspace(0.0, 1.0, 256)
    channels = [np.interp(x, _HEAT_STOPS[:, 0], _HEAT_STOPS[:, c]) for c in range(1, 5)]
    return np.round(np.stack(channels, axis=1)).astype(np.uint8)


_LUT = heat_lut()


def heat_rgba(uncertainty: np.ndarray) -> np.ndarray:
    """HxW uncertainty (0 sure .. 1 unsure; NaN counts as sure) -> HxWx4 uint8 RGBA."""
    uncertainty = np.asarray(uncertainty)
    rgba = np.empty((*uncertainty.shape, 4), np.uint8)
    for start in range(0, uncertainty.shape[0], _STRIP_ROWS):  # no full-size float copies
        rows = slice(start, start + _STRIP_ROWS)
        u = np.nan_to_num(uncertainty[rows].astype(np.float32), nan=0.0)
        rgba[rows] = _LUT[np.clip(np.rint(u * 255.0), 0, 255).astype(np.uint8)]
    return rgba


_STRIP_ROWS = 256
_WAIT_CURSOR_PIXELS = 4_000_000  # building a bigger heat map takes a noticeable moment


class UncertaintyLayer(pg.ImageItem):
    """Shows an HxW float uncertainty map with :func:`heat_rgba`; hidden until asked for.

    The heat map (4 bytes a pixel) is built only while the overlay is shown: a prediction of a
    big image arrives without it, and showing the overlay builds it then."""

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self._shape: tuple[int, int] | None = None
        self._uncertainty: np.ndarray | None = None  # the map, until its heat map is built
        self.setVisible(False)

    @property
    def map_shape(self) -> tuple[int, int] | None:
        """Shape of the map shown, None when empty (not ``shape``: that is QGraphicsItem's
        hit-test outline, which Qt calls on every hover)."""
        return self._shape

    def set_uncertainty(self, uncertainty: np.ndarray | None) -> None:
        self.clear()
        self._uncertainty = uncertainty
        self._shape = None if uncertainty is None else tuple(uncertainty.shape[:2])
        if self.isVisible():
            self._build()

    def set_shown(self, shown: bool) -> None:
        """Show (building the heat map if needed) or hide the overlay."""
        if shown:
            self._build()
        self.setVisible(shown)

    def _build(self) -> None:
        if self._uncertainty is None:
            return
        big = self._uncertainty.size > _WAIT_CURSOR_PIXELS
        if big:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.setImage(heat_rgba(self._uncertainty), autoLevels=False, levels=(0, 255))
        finally:
            if big:
                QApplication.restoreOverrideCursor()
        self._uncertainty = None
