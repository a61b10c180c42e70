"""The learning curve's legend fits its plot at the narrowest width the dock gives it (its
longest names, "agreement, last 3" and "changed fraction", were cut at 150 px)."""

from __future__ import annotations

from unet_desktop.core.folder.learning_record import CurvePoint, LearningRecord
from unet_desktop.gui.training.learning_panel import LearningPanel
from unet_desktop.gui.training.training_dock import PLOT_MIN_HEIGHT, PLOT_MIN_WIDTH


def test_the_legend_lies_inside_the_plot_at_its_minimum_width(qtbot):
    panel = LearningPanel()
    qtbot.addWidget(panel)
    points = tuple(CurvePoint(i + 1, f"slice_{i:02d}.png", 0.6 + i / 40, "dice", 0.1, "v1")
                   for i in range(4))
    panel.show_record(LearningRecord(enabled=True, points=points))
    panel.plot.setFixedSize(PLOT_MIN_WIDTH, PLOT_MIN_HEIGHT + 50)
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.wait(50)
    legend = panel.plot.getPlotItem().legend
    view = panel.plot.getPlotItem().getViewBox().sceneBoundingRect()
    box = legend.sceneBoundingRect()
    assert box.left() >= view.left() and box.right() <= view.right() + 1, (box, view)
