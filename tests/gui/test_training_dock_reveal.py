"""Turning on Learn as I Correct shows the Training dock at the height a fine-tune gives it, not
over most of the canvas (it opened 562 px tall and left the image a 191 px strip), and a window
the dock widens moves back inside its screen (it ran 44 px off a 1400 px screen)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect

from tests.gui.conftest import open_window
from unet_desktop.gui.main_window import TRAINING_DOCK_HEIGHT, moved_inside


def test_a_frame_moves_as_little_as_it_takes_to_lie_inside_the_screen():
    screen = QRect(0, 0, 1400, 900)
    # the reviewer's window, widened from 1202 to 1345 px at x=99: its right edge at 1443
    assert moved_inside(QRect(99, 37, 1345, 825), screen) == QPoint(55, 37)
    assert moved_inside(QRect(99, 37, 1202, 825), screen) == QPoint(99, 37)  # inside: stays
    assert moved_inside(QRect(-20, 50, 800, 600), screen) == QPoint(0, 50)
    assert moved_inside(QRect(300, 500, 800, 600), screen) == QPoint(300, 300)
    assert moved_inside(QRect(300, 10, 1500, 950), screen) == QPoint(0, 0)  # too large


def test_learning_on_shows_the_dock_at_its_height_and_keeps_the_window_on_screen(qtbot,
                                                                                workspace_dir):
    win = open_window(qtbot)
    assert win.open_folder(workspace_dir)
    win.resize(1000, 780)
    win.move(150, 0)
    qtbot.wait(20)
    canvas_before = win.centralWidget().height()
    win.model_actions.learn_as_i_correct.trigger()
    assert win.learning.enabled
    qtbot.waitUntil(lambda: win.training_dock.isVisible())
    qtbot.wait(50)
    screen = win.screen().availableGeometry()
    frame = win.frameGeometry()
    assert abs(win.training_dock.height() - TRAINING_DOCK_HEIGHT) <= 10, win.training_dock.height()
    assert win.centralWidget().height() >= canvas_before - TRAINING_DOCK_HEIGHT - 20, (
        canvas_before, win.centralWidget().height())
    assert frame.topLeft() == moved_inside(frame, screen), (frame, screen)
    win.close()
