"""The training dock's axes before the first point and its parent-mIoU label at any width
(issue 18, item 5)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.gui.worker import Worker


@pytest.fixture
def dock(qtbot):
    worker = Worker()
    d = TrainingDock(worker)
    qtbot.addWidget(d)
    yield d
    assert worker.shutdown(10.0)


@pytest.mark.parametrize("width", [420, 900])
def test_axes_start_at_zero_and_the_parent_label_is_whole(qtbot, dock, width):
    dock._on_location_changed(Qt.DockWidgetArea.BottomDockWidgetArea)  # plots side by side
    dock.resize(width, 270)
    dock.show()
    dock._planned_epochs = 20  # what start() takes from the config
    dock._redraw()
    qtbot.wait(10)
    (step_min, step_max), _ = dock.loss_plot.viewRange()
    assert (step_min, step_max) == (0, 10)
    (epoch_min, epoch_max), _ = dock.metric_plot.viewRange()
    assert 0 <= epoch_min <= 1 and 20 <= epoch_max < 21
    dock.parent_line.setValue(0.7)
    dock.parent_line.setVisible(True)
    qtbot.wait(10)
    view = dock.metric_plot.getViewBox().sceneBoundingRect()
    assert view.contains(dock.parent_line.label.sceneBoundingRect())
    dock._steps += [1, 2, 3]
    dock._losses += [0.9, 0.8, 0.7]
    dock._redraw()
    qtbot.wait(10)
    step_min, step_max = dock.loss_plot.viewRange()[0]
    assert step_min >= 0 and 3 <= step_max <= 10.5  # whole steps: never a range of 1.0 .. 3.0
