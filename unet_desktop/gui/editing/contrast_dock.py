"""Dock with the image's histogram and the contrast limits the view maps to black and white.

It mirrors the controller's state (blocking its own signals while syncing) and reports the
user's changes through signals; it knows nothing about files or documents.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.gui.decimal_box import DecimalSpinBox

STEPS_ACROSS_DATA = 100  # the boxes' arrows move a limit by this fraction of the data range


class ContrastDock(QDockWidget):
    """Histogram with a draggable range, Low / High boxes and an Auto button."""

    limits_changed = Signal(float, float)  # set by hand
    auto_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Contrast", parent)
        self.setObjectName("contrast_dock")
        self.plot = pg.PlotWidget()
        self.plot.setFixedHeight(110)
        # as wide as the dock column, not its own 600 px hint, which widened the whole column
        # (and narrowed the image) whenever 12-bit data showed this dock
        self.plot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.plot.setMinimumWidth(200)
        self.plot.hideAxis("left")
        self.plot.setMouseEnabled(False, False)
        self.plot.setMenuEnabled(False)
        self.curve = self.plot.plot(stepMode="center", fillLevel=0, brush=(120, 120, 200, 120),
                                    pen=pg.mkPen((90, 90, 180)))
        self.region = pg.LinearRegionItem()
        self.plot.addItem(self.region)
        # limits of float data in 0..0.004 must be shown and typed as they are (not as 0.00)
        self.low_spin = DecimalSpinBox()
        self.high_spin = DecimalSpinBox()
        for spin in (self.low_spin, self.high_spin):
            spin.setRange(-1e12, 1e12)
            spin.setKeyboardTracking(False)
            # sized for data values, not for the range's 16 digits (which made the dock 474 px)
            spin.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("-1.23456e-05") + 30)
        self.auto_button = QPushButton("Auto")
        self.auto_button.setToolTip("Limits from each image's 0.5th and 99.5th percentiles "
                                    "(a composite's: each channel's own)")
        self.info_label = QLabel("")
        self.info_label.setWordWrap(True)
        # room for the longest line wrapped in a narrow column ("uint16, 2 channels (composite);
        # data ...; automatic (0.5-99.5th percentiles ...)"): a dock's minimum height does not
        # follow a label's wrapping, so more lines would push the boxes over the histogram
        self.info_label.setMinimumHeight(3 * self.info_label.fontMetrics().lineSpacing())

        grid = QGridLayout()
        grid.addWidget(QLabel("Low"), 0, 0)
        grid.addWidget(self.low_spin, 0, 1)
        grid.addWidget(QLabel("High"), 1, 0)
        grid.addWidget(self.high_spin, 1, 1)
        grid.addWidget(self.auto_button, 0, 2, 2, 1)
        grid.setColumnStretch(1, 1)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.plot)
        layout.addLayout(grid)
        layout.addWidget(self.info_label)
        layout.addStretch(1)
        self.setWidget(body)

        self.region.sigRegionChangeFinished.connect(self._on_region_changed)
        self.low_spin.valueChanged.connect(self._on_spin_changed)
        self.high_spin.valueChanged.connect(self._on_spin_changed)
        self.auto_button.clicked.connect(self.auto_requested)

    # --- model -> view ---------------------------------------------------------------------
    def show_image(self, counts: np.ndarray, edges: np.ndarray, low: float, high: float,
                   info: str) -> None:
        """The histogram of the image on screen, the limits in force and a line about them."""
        self.curve.setData(edges, np.log1p(counts.astype(np.float64)))
        self.plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.02)
        span = float(edges[-1] - edges[0])
        for spin in (self.low_spin, self.high_spin):
            spin.setSingleStep(span / STEPS_ACROSS_DATA if span > 0 else 1.0)
        self.show_limits(low, high)
        self.info_label.setText(info)

    def show_limits(self, low: float, high: float) -> None:
        for widget in (self.region, self.low_spin, self.high_spin):
            widget.blockSignals(True)
        self.region.setRegion((low, high))
        self.low_spin.setValue(low)
        self.high_spin.setValue(high)
        for widget in (self.region, self.low_spin, self.high_spin):
            widget.blockSignals(False)

    def limits(self) -> tuple[float, float]:
        return self.low_spin.value(), self.high_spin.value()

    # --- view -> model ---------------------------------------------------------------------
    def _on_region_changed(self) -> None:
        low, high = self.region.getRegion()
        if high > low:
            self.limits_changed.emit(float(low), float(high))

    def _on_spin_changed(self) -> None:
        low, high = self.limits()
        if high > low:
            self.limits_changed.emit(low, high)
