"""The training dock's plots are drawn whole in their widgets: a long pyqtgraph title made the
plot wider than its widget (322 px in 150), and the part beyond it, the later epochs and the end
of the title ("not validated"), was never drawn. Titles are short, their wording in the tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import open_window
from unet_desktop.core.folder.learning_record import LearningRecord
from unet_desktop.gui.training.training_dock import (
    NOT_VALIDATED_TITLE,
    SPLIT_UNKNOWN_TIP,
    SPLIT_UNKNOWN_TITLE,
    set_title,
    split_title,
)

OLD_TITLE_PX = 296  # what "On the training images (not validated)" needed


def drawn_whole(plot) -> bool:
    """The plot, laid out, is no wider than its widget, and nothing in it asks to be."""
    QApplication.processEvents()  # the title's new size is laid out through a posted event
    item = plot.getPlotItem()
    width = plot.viewport().width()
    return item.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= width \
        and item.sceneBoundingRect().width() <= width


def narrow_dock(qtbot):
    """The window on a 1366 px screen with the learning curve beside the two plots: each plot
    at about its minimum width."""
    win = open_window(qtbot)
    win.resize(1366, 768)
    panel = win.learning.panel
    panel.show_record(LearningRecord(enabled=True))
    panel.setVisible(True)
    win.training_dock.show()
    win.training_dock.training_started.emit()  # the window gives the dock its height
    qtbot.waitUntil(lambda: win.training_dock.metric_plot.viewport().width() > 0)
    return win


def test_every_title_of_the_metric_plot_leaves_it_whole_in_a_narrow_dock(qtbot):
    win = narrow_dock(qtbot)
    dock = win.training_dock
    assert dock.metric_plot.viewport().width() < OLD_TITLE_PX  # narrow enough to tell
    titles = [(SPLIT_UNKNOWN_TITLE, SPLIT_UNKNOWN_TIP), split_title(0), split_title(2),
              split_title(120)]
    for title, tip in titles:
        set_title(dock.metric_plot, title, tip)
        assert drawn_whole(dock.metric_plot), title
        assert dock.metric_plot.toolTip() == tip
    assert drawn_whole(dock.loss_plot)
    assert split_title(0)[0] == NOT_VALIDATED_TITLE and "not validated" in split_title(0)[1]
    assert "120 held-out image(s)" in split_title(120)[1]
    win.close()
