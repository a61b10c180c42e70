"""Learn as I Correct: a round the gate passed but the window keeps only as a candidate (learning
turned off as it finished, another model being put into use, one put into use while it ran)
says so in the panel, the training dock's status line and the window's message, as its
version's note does; never the gate's 'Promoted'."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments
from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.gui.conftest_model import TIMEOUT_MS, make_model_file, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import gate_scores, new_window, pets, win  # noqa: F401
from tests.gui.test_models_meet import Hold, messages_of
from unet_desktop.core.folder.task import load_task
from unet_desktop.ml.loop.learning_loop import LearningLoop


def assert_says_candidate(win, pets, result, said: list[str], why: str) -> None:
    """Every place that tells the round's outcome says it is a candidate, and why."""
    assert not result.promoted
    expected = f"Learning round {result.model_path.stem}: Kept as a candidate, not put into use"
    for shown in (win.learning.panel.status_label.text(),
                  win.training_dock.status_label.text()):
        assert shown.startswith(expected) and why in shown, shown
    told = [m for m in said if m.startswith(f"{result.model_path.stem}: ")]
    assert told and all("not put into use" in m and why in m for m in told), said
    version = next(v for v in load_task(pets).versions if v.version == result.version)
    assert "candidate" in version.note and why in version.note
    assert load_task(pets).model != version.file


def test_a_round_finishing_as_learning_is_turned_off_says_it_is_a_candidate(
        qtbot, win, pets, monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    hold = Hold(monkeypatch, after=True)  # the round waits once its result is out
    said = messages_of(win.learning)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.results) == 1, timeout=60_000)
    assert hold.results[0].promoted  # the gate passed it
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as done:
        win.model_actions.learn_as_i_correct.trigger()  # off
    hold.release()
    assert_says_candidate(win, pets, done.args[0], said, "learning was turned off")


def test_a_round_finishing_while_another_model_loads_says_it_is_a_candidate(
        qtbot, win, pets, tmp_path, monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    last_step, go = threading.Event(), threading.Event()
    run_round = LearningLoop.run_round

    def held(loop, plan, cancel=None):  # the worker thread waits in the round's last step
        yield from run_round(loop, plan, cancel)
        last_step.set()
        go.wait(10)

    monkeypatch.setattr(LearningLoop, "run_round", held)
    other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
    from unet_desktop.ml import api
    load_model = api.load_model

    def slow_load(path=None, *args, **kwargs):
        if path is not None and Path(path) == other:
            time.sleep(1.0)  # still loading when the round's end reaches the window
        return load_model(path, *args, **kwargs)

    monkeypatch.setattr(api, "load_model", slow_load)
    said = messages_of(win.learning)
    win.model_actions.learn_as_i_correct.trigger()
    assert last_step.wait(60)
    win.model_commands.open_model(other)  # queued behind the round on the worker
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        go.set()
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    assert win.models.active.path == other
    assert_says_candidate(win, pets, done.args[0], said,
                          "another model was being put into use as it finished")


def test_a_round_finishing_after_another_model_was_put_into_use_says_it_is_a_candidate(
        qtbot, win, pets, tmp_path, monkeypatch):
    gate_scores(monkeypatch, win.models.active_version, candidate_better=True)
    hold = Hold(monkeypatch)
    said = messages_of(win.learning)
    win.model_actions.learn_as_i_correct.trigger()
    qtbot.waitUntil(lambda: len(hold.plans) == 1, timeout=TIMEOUT_MS)
    other = make_model_file(tmp_path / "other.safetensors", seed=3, name="other")
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        win.models.load(other)
    with qtbot.waitSignal(win.learning.round_finished, timeout=60_000) as done:
        hold.release()
    assert_says_candidate(win, pets, done.args[0], said, "was put into use while it trained")
