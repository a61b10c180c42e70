"""A learning round's outcome in the Training dock's status line widened the dock (the label
did not wrap) and with it the window, to 1614 px on a 1400 px screen, for good."""

from __future__ import annotations

from tests.gui.conftest import open_window


def test_a_long_round_outcome_does_not_widen_the_dock(qtbot):
    win = open_window(qtbot)
    dock = win.training_dock
    dock.show_round("Learning round pets-v1: step 1, loss 0.9")
    dock.widget().layout().activate()
    narrow = dock.widget().minimumSizeHint().width()
    dock.show_round("Learning round membranes-v1: The first model of this folder's classes: "
                    "promoted, not validated: 0 usable validation image(s) so far, 2 needed. "
                    "It is in use from the next image on; Roll Back puts the previous one back.")
    dock.widget().layout().activate()
    assert dock.widget().minimumSizeHint().width() <= narrow + 10
    assert dock.status_label.minimumSizeHint().width() < 200
    win.close()
