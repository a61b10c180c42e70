"""Learn as I Correct and corrections undone and saved: an image undone back to its accepted
prediction or to no mask file leaves the loop (no round trains or judges on it, its validation
slot goes to the next corrected image), also when it was undone while learning was off. A
reorder of the classes during a round does not say the open folder is no longer open."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

from tests.gui.conftest_model import TIMEOUT_MS, disc_pair, image_key, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import correct, new_window, pets, turn_on  # noqa: F401
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.workspace import ImageState


def undo_to_no_mask(win) -> None:
    while win.actions.undo.isEnabled():
        win.session.undo()
    assert win.session.document.history.at_no_mask
    assert win.session.save("save")


def test_an_image_undone_to_its_accepted_prediction_is_not_trained_on(qtbot, pets, tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    turn_on(qtbot, win, k=10)  # no validation image among the first ten
    key, s = image_key(4), win.session
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    assert win.prediction.accept() and s.save("save")
    predicted = s.document.mask.copy()
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        s.apply(delta_from_masks(s.document.mask, disc_pair(4)[1], "correct"))
        assert s.save("save")
    assert key in win.learning.loop.record.corrected
    s.undo()
    assert (s.document.mask == predicted).all() and s.save("save")
    assert s.workspace[key].state is ImageState.PREDICTED
    assert key not in win.learning.loop.record.corrected
    assert not win.learning.loop.record.has_point(key)
    assert "leave it out" in win.learning.panel.status_label.text()
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        correct(qtbot, win, 5)
    win.close()
    assert key not in done.args[0].train_images
    assert image_key(5) in done.args[0].train_images


def test_a_validation_image_undone_to_no_mask_frees_its_slot(qtbot, pets, tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    turn_on(qtbot, win, k=5)  # the 4 corrected images; the 5th corrected validates
    key, loop = image_key(4), win.learning.loop
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        correct(qtbot, win, 4)
    assert loop.record.validation == (key,)
    undo_to_no_mask(win)
    assert win.session.workspace[key].state is ImageState.UNLABELED
    assert key not in loop.record.corrected and loop.record.validation == ()
    said = []
    win.learning.message.connect(said.append)
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        correct(qtbot, win, 5)
    win.close()
    result = done.args[0]
    assert loop.record.validation == (image_key(5),)  # the next one took the slot
    assert key not in result.train_images + result.validation_images
    assert result.validation_images == (image_key(5),)
    assert "1 usable validation image(s)" in result.reason
    assert not [m for m in said if key in m], said


def test_an_image_undone_while_learning_was_off_leaves_the_loop_when_it_is_on(qtbot, pets,
                                                                             tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    turn_on(qtbot, win, k=10)
    key, loop = image_key(4), win.learning.loop
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS):
        correct(qtbot, win, 4)
    win.model_actions.learn_as_i_correct.trigger()  # off
    undo_to_no_mask(win)
    assert key in loop.record.corrected  # learning off: the record is left as it was
    win.model_actions.learn_as_i_correct.trigger()  # on again
    corrected = loop.record.corrected
    win.close()
    assert key not in corrected and image_key(0) in corrected
