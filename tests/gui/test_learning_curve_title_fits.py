"""The learning curve is drawn whole beside the training dock's plots: its title ("Starting
prediction vs your saved mask", 320 px) made the plot wider than its widget, and every point
after the third image was cut off. The title is short, its wording in the tooltip."""

from __future__ import annotations

from tests.gui.test_plot_titles_fit import OLD_TITLE_PX, drawn_whole, narrow_dock


def test_the_learning_curve_is_drawn_whole_in_a_narrow_dock(qtbot):
    win = narrow_dock(qtbot)
    plot = win.learning.panel.plot
    assert plot.viewport().width() < OLD_TITLE_PX  # narrow enough to tell
    assert drawn_whole(plot)
    assert "Starting prediction vs your saved mask" in plot.toolTip()
    win.close()
