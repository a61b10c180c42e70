"""The training dock's plots: the validation axis follows the epochs run, not the 1000 asked
for; in a 1600x1000 window every plot keeps a readable height (issue 33, item 4)."""

from __future__ import annotations

import numpy as np
import tifffile
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QScrollArea

from tests.gui.conftest import open_window
from unet_desktop.core.folder.learning_record import CurvePoint, LearningRecord
from unet_desktop.ml.reports import EpochReport

READABLE_PX = 120  # a plot with its title, ticks and axis labels needs at least this


def report(epoch: int, miou: float) -> EpochReport:
    return EpochReport(epoch, 1000, 0.1, {"miou": miou, "mdice": miou + 0.05}, False, 60.0)


def test_the_validation_axis_follows_the_epochs_run(qtbot):
    win = open_window(qtbot)
    dock = win.training_dock
    dock._planned_epochs = 1000  # what start() takes from a config of 1000 epochs
    for epoch in range(1, 37):
        dock._on_report(report(epoch, 0.5 + epoch / 100))
    dock._redraw()
    (low, high), _ = dock.metric_plot.viewRange()
    assert low <= 1 and 36 <= high <= 40, (low, high)
    dock._planned_epochs = 20  # a short run shows its whole plan from the start
    for series in (dock._epochs, dock._miou, dock._mdice):
        series.clear()
    dock._on_report(report(1, 0.5))
    dock._redraw()
    assert 20 <= dock.metric_plot.viewRange()[0][1] < 21
    win.close()


def test_every_plot_is_readable_in_a_1600x1000_window(qtbot):
    win = open_window(qtbot)
    win.resize(1600, 1000)
    dock, panel = win.training_dock, win.learning.panel
    points = tuple(CurvePoint(i + 1, f"slice_{i:02d}.png", 0.6 + i / 40, "dice", 0.1, f"v{i}")
                   for i in range(10))
    panel.show_record(LearningRecord(enabled=True, points=points))
    panel.show_status("Promoted: Dice 0.912 >= 0.884 of the model in use on 2 validation "
                      "images.")
    panel.setVisible(True)
    dock.reveal()  # the window gives the dock its height
    qtbot.wait(50)
    for plot in (dock.loss_plot, dock.metric_plot, panel.plot):
        assert plot.height() >= READABLE_PX and plot.width() >= READABLE_PX, plot.size()
        top_left = plot.mapTo(dock, plot.rect().topLeft())  # not clipped by the dock
        assert dock.rect().contains(QRect(top_left, plot.size())), (top_left, dock.size())
    win.close()


def test_with_the_learning_curve_the_window_still_fits_a_1366_px_screen(qtbot):
    """The training dock under the canvas, with the loop's curve beside its two plots: the
    window's minimum width leaves room on a common laptop screen (it was 1529 px)."""
    win = open_window(qtbot)
    win.resize(1366, 768)
    panel = win.learning.panel
    panel.show_record(LearningRecord(enabled=True, points=(
        CurvePoint(1, "slice_00.png", 0.05, "dice", 0.95, "v1", labelled_fraction=0.01),)))
    panel.setVisible(True)
    win.training_dock.show()
    qtbot.wait(50)
    assert win.minimumSizeHint().width() <= 1366, win.minimumSizeHint()
    assert win.width() <= 1366
    for plot in (win.training_dock.loss_plot, win.training_dock.metric_plot, panel.plot):
        assert plot.width() >= READABLE_PX, plot.size()
    column = panel.findChild(QScrollArea)  # the estimate and the controls: wrapped, not cut
    assert column.widget().width() <= column.viewport().width()
    win.close()


def test_with_12_bit_data_the_contrast_dock_fits_a_1366x768_screen_beside_a_wide_image(qtbot,
                                                                                        tmp_path):
    """12-bit data shows the Contrast dock under the tools and the prediction dock: the window
    was 1018 px tall at least (835 without it) and the dock column 618 px wide, the image
    narrowed to a third of the window; the tools now scroll and the histogram takes the
    column's width."""
    # two channels: the dock's longest line ("uint16, 2 channels (composite); data ...")
    channels = np.random.default_rng(0).integers(0, 40000, (2, 64, 64)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "two.tif", channels, photometric="minisblack",
                     metadata={"axes": "CYX"})
    win = open_window(qtbot)
    win.resize(1366, 768)
    assert win.open_folder(tmp_path)
    qtbot.waitUntil(win.contrast_dock.isVisible)
    qtbot.wait(50)
    hint = win.minimumSizeHint()
    assert hint.width() <= 1366 and hint.height() <= 700, hint  # room for a title and a bar
    assert win.height() <= 768
    assert win.contrast_dock.width() <= 400, win.contrast_dock.width()
    assert win.canvas.width() >= win.width() // 2, (win.canvas.width(), win.width())
    dock = win.contrast_dock  # its wrapped line never pushes the limit boxes over the plot
    plot_bottom = dock.plot.mapTo(dock, dock.plot.rect().bottomLeft()).y()
    assert dock.low_spin.mapTo(dock, dock.low_spin.rect().topLeft()).y() > plot_bottom
    info = dock.info_label
    assert info.heightForWidth(info.width()) <= info.height(), info.text()
    tools = win.tool_dock.widget()  # every tool still reachable: scrolled, not cut
    assert isinstance(tools, QScrollArea) and tools.widget().width() <= tools.viewport().width()
    win.close()
