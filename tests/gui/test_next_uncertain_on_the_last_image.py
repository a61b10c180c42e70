"""Next Most Uncertain (U) on the last image not yet corrected (the one on screen) says so; it
said "Every image is corrected or verified" while the image on screen was unlabelled."""

from __future__ import annotations

from tests.gui.conftest import KEYS

LAST = "images/dog_0.png"  # the workspace's only image without a mask


def test_u_on_the_last_image_to_correct_says_it_is_the_last(qtbot, window):
    window.file_dock.select_key(LAST)
    qtbot.waitUntil(lambda: window.session.current_key == LAST)
    window.model_actions.next_uncertain.trigger()
    assert window.session.current_key == LAST
    assert window.statusBar().currentMessage() == \
        "This is the last image not yet corrected or verified"
    window.actions.mark_verified.trigger()
    window.model_actions.next_uncertain.trigger()
    assert window.statusBar().currentMessage() == "Every image is corrected or verified"


def test_the_words_name_what_is_left():
    from unet_desktop.gui.model.prediction_controller import nothing_else_to_correct

    assert nothing_else_to_correct([], KEYS[0]) == "Every image is corrected or verified"
    assert nothing_else_to_correct([KEYS[0]], KEYS[0]).startswith("This is the last image")
    assert nothing_else_to_correct([KEYS[0], KEYS[1]], KEYS[0]).endswith(
        "are this one and 1 with unsaved edits")
    assert nothing_else_to_correct([KEYS[1], KEYS[2]], KEYS[0]).endswith(
        "are 2 with unsaved edits")
