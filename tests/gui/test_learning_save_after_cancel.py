"""Cancel Training during a learning round, then a correction saved before the round has
ended its step: the panel said the image 'goes into the next round' and the dock 'The next
correction you save starts a new round', yet no round started from that save (Cancel's hold
stayed on) until another image was saved. Now the save lifts the hold and the next round starts
as the cancelled one ends."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import dataclasses
import threading
import time

from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import FAST, correct, new_window, pets  # noqa: F401
from unet_desktop.gui.worker import Priority


def hold_the_worker(worker) -> threading.Event:
    """A job that stands for a slow training step: the worker runs it until the event is set."""
    release = threading.Event()
    worker.submit(lambda token: release.wait(30), Priority.CONTROL, name="slow step")
    deadline = time.monotonic() + 30
    while worker.running is None or worker.running.name != "slow step":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return release


def test_a_correction_saved_as_a_cancelled_round_ends_starts_the_next(qtbot, pets, tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    learning = win.learning
    learning.settings = dataclasses.replace(FAST, epochs=None, round_seconds=600)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: "step" in win.training_dock.status_label.text(), timeout=TIMEOUT_MS)
    learning.settings = FAST
    correct(qtbot, win, 4, save=False)  # an uncorrected image, edited
    first = learning.round_job
    release = hold_the_worker(win.worker)
    learning.cancel_round()  # Cancel Training in the dock
    assert learning.running  # still ending its step
    assert win.session.save("save")
    assert learning.panel.status_label.text() == ("images/img_04.png goes into the next round "
                                                  "(one is running).")
    release.set()
    qtbot.waitUntil(lambda: learning.round_job not in (None, first), timeout=TIMEOUT_MS)
    with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS) as done:
        pass
    assert "images/img_04.png" in done.args[0].train_images + done.args[0].validation_images
    win.close()
