"""The learning loop's curve in the training dock: how much each starting prediction agreed with
the mask the user saved, and how much of it they changed.

One point per corrected image, in the order they were corrected: the **agreement** (Dice, or
mIoU for multi-class tasks) of the prediction the user started from with the mask they saved,
coloured by the model version that predicted it (hover a point for its image and version), the
moving average of the last three, the **changed fraction** (the share of labelled pixels the
user repainted) beside it, and the target as a dashed line. The agreement says how little was
edited, not how accurate the model is: a saved mask keeps every predicted pixel the user did not
repaint. So the target is judged only on images the user really checked: **verified** images
and the loop's frozen **validation** images (``checked``); the estimate says how many of those
there are and how far their average is. The target and k (every k-th corrected image
is kept for validation) are edited here and written back through the owner's setters
(``target_changed``, ``every_k_changed``); :meth:`show_record` mirrors the record.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.folder.learning_record import (
    AVERAGE_WINDOW,
    CurvePoint,
    LearningRecord,
    images_until_target,
    moving_average,
)
from unet_desktop.gui.decimal_box import DecimalSpinBox
from unet_desktop.gui.editing.dock_scroll import scrolled
from unet_desktop.gui.training.training_dock import PLOT_MIN_HEIGHT, PLOT_MIN_WIDTH, titled_plot

VERSION_COLORS = ("#4c9be8", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                  "#7f7f7f", "#bcbd22", "#17becf")
EMPTY_IMAGES = 10  # the image axis before the first points
TARGET_LABEL_ROOM = 0.1  # above 1.0 on the score axis: a target of 0.95 keeps its label whole
LEGEND_SIZE = "7pt"
TEXT_WIDTH = 230  # px of the column beside the plot: status, estimate, target, validation
TARGET_TIP = "The score the moving average should reach"
EVERY_K_TIP = "One corrected image in every k is kept out of training to judge each new version"


def strokes_text(record: LearningRecord) -> str:
    """What the points of masks that hold strokes say, and that the averages leave them out."""
    strokes = [p for p in record.points if p.strokes]
    if not strokes:
        return ""
    painted = sum(p.labelled_fraction for p in strokes) / len(strokes)
    return (f" {len(strokes)} image(s) saved as strokes (hollow; {painted:.1%} painted): you "
            "chose where to paint, so their agreement is not the model's and the averages "
            "leave them out.")


def estimate_text(record: LearningRecord, checked: frozenset[str] | set[str] = frozenset()) -> str:
    """The moving averages of agreement and changed fraction over full corrections, and the
    target judged on the ``checked`` images (verified or validation) only."""
    points = record.full_points
    name = "mIoU" if record.points and record.points[-1].metric == "miou" else "Dice"
    if not record.points:
        return (f"No corrections recorded yet: each image you correct adds a point (target "
                f"{name} {record.target:.2f} on verified or validation images).")
    if not points:
        return (f"No full corrections yet (target {name} {record.target:.2f} on verified or "
                "validation images that are fully labelled: accept the prediction, then "
                "correct it)." + strokes_text(record))
    agreement = moving_average([p.score for p in points])[-1]
    changed = moving_average([p.changed_fraction for p in points])[-1]
    head = (f"{len(points)} image(s); last {AVERAGE_WINDOW}: the starting prediction agrees "
            f"with your saved mask at {name} {agreement:.3f}, you changed {changed:.1%} of the "
            "pixels (agreement measures how little you edited, not accuracy)."
            + strokes_text(record))
    scores = [p.score for p in points if p.image in checked]
    target = f"Target {name} {record.target:.2f}, judged on verified or validation images"
    if len(scores) < AVERAGE_WINDOW:
        return (f"{head} {target}: not judged yet ({len(scores)} of the {AVERAGE_WINDOW} "
                "needed).")
    average = moving_average(scores)[-1]
    left = images_until_target(scores, record.target)
    target += f" ({len(scores)}, last {AVERAGE_WINDOW} {average:.3f})"
    if left == 0:
        return f"{head} {target}: reached."
    if left is None:
        return f"{head} {target}: not reached, no rising trend yet."
    return f"{head} {target}: about {left} more checked image(s) at this rate."


class LearningPanel(QWidget):
    """Curve, estimate, target and k of the open folder's learning loop."""

    target_changed = Signal(float)
    every_k_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = titled_plot("Learning curve", "Starting prediction vs your saved mask, per "
                                "corrected image: their agreement (avg: its moving average "
                                f"over the last {AVERAGE_WINDOW}) and the share of labelled "
                                "pixels you changed")
        self.plot.setLabel("bottom", "corrected image")
        self.plot.setLabel("left", "agreement / changed")
        # short names, small type: the legend fits the plot at PLOT_MIN_WIDTH (the y label
        # and the tooltip say the rest)
        self.plot.addLegend(offset=(-5, 5), labelTextSize=LEGEND_SIZE, horSpacing=4)
        self.plot.setYRange(0.0, 1.0 + TARGET_LABEL_ROOM, padding=0)
        self.plot.setLimits(xMin=0)
        self.plot.setXRange(0, EMPTY_IMAGES, padding=0.02)
        self.points = pg.ScatterPlotItem(size=8, hoverable=True, tip=self._tip, name="agreement")
        self.plot.addItem(self.points)
        self.average_curve = self.plot.plot([], [], pen=pg.mkPen("#444444", width=2),
                                            name=f"avg of {AVERAGE_WINDOW}")
        self.changed_curve = self.plot.plot([], [], pen=pg.mkPen("#d62728", width=1),
                                            symbol="x", symbolSize=7, symbolPen="#d62728",
                                            name="changed")
        self.target_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("#2ca02c", style=Qt.PenStyle.DashLine),
            label="target", labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)]})  # above it
        self.plot.addItem(self.target_line)
        self.estimate_label = QLabel("")
        self.estimate_label.setWordWrap(True)
        self.status_label = QLabel("Learning as you correct is off (Training menu).")
        self.status_label.setWordWrap(True)
        self.target_spin = DecimalSpinBox()
        self.target_spin.setRange(0.5, 1.0)
        self.target_spin.setSingleStep(0.01)
        self.target_spin.setDecimals(2)
        self.target_spin.setToolTip(TARGET_TIP)
        self.target_spin.valueChanged.connect(self.target_changed)
        self.k_spin = QSpinBox()
        self.k_spin.setRange(2, 100)
        self.k_spin.setToolTip(EVERY_K_TIP)
        self.k_spin.valueChanged.connect(self.every_k_changed)
        self.k_spin.setPrefix("1 in ")
        self.k_spin.setSuffix(" corrected images")
        controls = QFormLayout()
        controls.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)  # narrow column
        controls.addRow("Target:", self.target_spin)
        controls.addRow("Validation:", self.k_spin)
        text = QVBoxLayout()  # beside the plot: the plot keeps the dock's height
        text.addWidget(self.status_label)  # first: a round's progress, above a long estimate
        text.addWidget(self.estimate_label)
        text.addLayout(controls)
        text.addStretch(1)
        inner = QWidget()
        inner.setLayout(text)
        column = scrolled(inner, whole_height=False)  # a long estimate scrolls, not cut off
        column.setMinimumWidth(TEXT_WIDTH)
        column.setMaximumWidth(TEXT_WIDTH)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(column)
        self.plot.setMinimumSize(PLOT_MIN_WIDTH, PLOT_MIN_HEIGHT)
        self.show_record(LearningRecord())

    def show_record(self, record: LearningRecord, names: dict[str, str] | None = None,
                    verified: frozenset[str] | set[str] = frozenset()) -> None:
        """Mirror ``record`` (the spin boxes do not echo it back as changes); ``names``: model
        version id -> the name the tips show (the task's ``cells-v3``); ``verified``: the images
        marked verified (with the record's validation images, what the target is judged on)."""
        names = names or {}
        versions = list(dict.fromkeys(p.model_version for p in record.points))
        outline = pg.mkPen(pg.getConfigOption("foreground"))  # the scatter's own default

        def colour(p: CurvePoint) -> str:
            return VERSION_COLORS[versions.index(p.model_version) % len(VERSION_COLORS)]

        self.points.setData(  # strokes hollow: no brush, a ring of the version's colour
            x=[p.order for p in record.points], y=record.scores,
            data=[(p.image, names.get(p.model_version, p.model_version),
                   p.labelled_fraction if p.strokes else None) for p in record.points],
            brush=[pg.mkBrush(None) if p.strokes else pg.mkBrush(colour(p))
                   for p in record.points],
            pen=[pg.mkPen(colour(p), width=2) if p.strokes else outline for p in record.points])
        full = record.full_points
        xs = [p.order for p in full]
        self.average_curve.setData(xs, moving_average([p.score for p in full]))
        self.changed_curve.setData(xs, [p.changed_fraction for p in full])
        self.target_line.setValue(record.target)
        self.plot.setXRange(0, max(EMPTY_IMAGES, len(record.points) + 1), padding=0.02)
        checked = frozenset(verified) | frozenset(record.validation)
        self.estimate_label.setText(estimate_text(record, checked)
                                    + (f" Colours: {len(versions)} model version(s)."
                                       if versions else ""))
        for spin, value in ((self.target_spin, record.target), (self.k_spin, record.every_k)):
            spin.blockSignals(True)
            spin.setValue(value)
            spin.blockSignals(False)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def set_settings_editable(self, editable: bool, why: str = "") -> None:
        """Target and Validation can be changed (they are the folder's); ``why`` not, said in
        their tooltips."""
        for spin, tip in ((self.target_spin, TARGET_TIP), (self.k_spin, EVERY_K_TIP)):
            spin.setEnabled(editable)
            spin.setToolTip(tip if editable else f"{tip} ({why})")

    @staticmethod
    def _tip(x: float, y: float, data: tuple[str, str, float | None]) -> str:
        image, version, strokes = data  # strokes: the share painted, for a mask of strokes
        where = "" if strokes is None else f" (strokes: {strokes:.1%} of it painted)"
        return (f"{image}\nagreement with your saved mask{where} {y:.3f}\n"
                f"predicted by {version}")
