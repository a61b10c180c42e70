"""Learn as I Correct, and a correction undone and saved while a round that trains on it runs
(or as it finishes): that round's version is not put into use, the round says which image, and a
new round starts without it."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

import threading

import pytest

from tests.gui.conftest_model import TIMEOUT_MS, disc_pair, image_key, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import new_window, pets, turn_on  # noqa: F401
from unet_desktop.core.editing.delta import delta_from_masks
from unet_desktop.core.folder.task import load_task
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.ml.loop.learning_loop import LearningLoop
from unet_desktop.ml.reports import RoundResult, StepReport


def in_use(folder) -> str | None:
    """The version of the model in use that the folder's task records."""
    task = load_task(folder)
    version = task.version_of(task.model) if task is not None else None
    return version.version if version is not None else None


def pause_after_first_step(monkeypatch) -> threading.Event:
    """Rounds wait after their first training step until the returned event is set (the test
    undoes meanwhile), so that the undo lands while the round trains."""
    resume, run_round = threading.Event(), LearningLoop.run_round

    def pausing(self, plan, cancel=None):
        for report in run_round(self, plan, cancel):
            yield report
            if isinstance(report, StepReport):
                resume.wait(10.0)

    monkeypatch.setattr(LearningLoop, "run_round", pausing)
    return resume


@pytest.mark.parametrize("when", ["training", "finishing"])
def test_an_image_undone_during_a_round_is_in_no_version_put_into_use(qtbot, pets, tiny_model,
                                                                      monkeypatch, when):
    win = new_window(qtbot, pets, tiny_model)
    turn_on(qtbot, win, k=10)  # no validation image among the first ten: rounds are promoted
    before = in_use(pets)
    key, s, learning = image_key(4), win.session, win.learning
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    assert win.prediction.accept() and s.save("save")
    predicted = s.document.mask.copy()

    resume = pause_after_first_step(monkeypatch) if when == "training" else None
    undo_on = StepReport if when == "training" else RoundResult
    report = learning._on_round_report

    def undo_then_report(r, results, name):
        if isinstance(r, undo_on) and s.workspace[key].state is ImageState.CORRECTED:
            s.undo()  # back to the accepted prediction
            assert (s.document.mask == predicted).all() and s.save("save")
            if resume is not None:
                resume.set()
        report(r, results, name)

    monkeypatch.setattr(learning, "_on_round_report", undo_then_report)
    then = []  # the task's model in use, and what the panel said, as each round finished
    learning.round_finished.connect(
        lambda _r: then.append((in_use(pets), learning.panel.status_label.text())))
    with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS) as stopped:
        s.apply(delta_from_masks(s.document.mask, disc_pair(4)[1], "correct"))
        assert s.save("save")
    result = stopped.args[0]
    assert s.workspace[key].state is ImageState.PREDICTED
    assert key in result.train_images and not result.promoted
    assert key in result.reason and "no longer corrected" in result.reason
    assert then[0][0] == before and result.reason in then[0][1]
    if when == "training":  # stopped: nothing kept
        assert result.gate == "undone" and result.model_path is None
    else:  # finished: a candidate only
        task = load_task(pets)
        candidate = next(v for v in task.versions if v.version == result.version)
        assert "candidate" in candidate.note
    with qtbot.waitSignal(learning.round_finished, timeout=TIMEOUT_MS) as again:
        pass  # the new round, started without it
    win.close()
    assert key not in again.args[0].train_images
    assert image_key(0) in again.args[0].train_images
