"""Learn as I Correct keeps going where a round was cut short or a model was pruned, in the real
window: turning learning off and on during a round, quitting during a round and reopening, roll
back to a version the pruning would delete."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_pets,
    tiny_model,
)
from tests.gui.test_learning_loop import (  # noqa: F401 - pets and win are fixtures used by name
    correct,
    gate_scores,
    new_window,
    pets,
    win,
)
from unet_desktop.core.folder.task import load_task, model_file
from unet_desktop.ml.loop.folder_models import KEEP_CANDIDATES
from unet_desktop.ml.loop.learning_loop import LoopSettings

ENDLESS = LoopSettings(epochs=100_000, size=32, batch_size=4)  # a round that runs until stopped
ROUND_MS = 60_000


def start_an_endless_round(qtbot, win) -> None:
    win.learning.settings = ENDLESS
    win.model_actions.learn_as_i_correct.trigger()  # on: the 4 corrected images
    qtbot.waitUntil(lambda: win.learning.running and win.learning.round_job.steps > 3,
                    timeout=TIMEOUT_MS)


def test_learning_off_and_on_during_a_round_trains_its_corrections(qtbot, win, pets):
    start_an_endless_round(qtbot, win)
    with qtbot.waitSignal(win.learning.round_finished, timeout=TIMEOUT_MS) as cancelled:
        win.model_actions.learn_as_i_correct.trigger()  # off: the round is cancelled
    assert cancelled.args[0].gate == "cancelled"
    win.learning.settings = LoopSettings(epochs=1, size=32, batch_size=4)
    with qtbot.waitSignal(win.learning.round_finished, timeout=ROUND_MS) as done:
        win.model_actions.learn_as_i_correct.trigger()  # on again
    assert done.args[0].model_path is not None
    assert set(done.args[0].train_images) == {image_key(i) for i in range(4)}


def test_reopening_after_quitting_during_a_round_trains_its_corrections(qtbot, win, pets,
                                                                        tiny_model):
    start_an_endless_round(qtbot, win)
    win.close()
    models = pets / ".unet-desktop" / "models"
    assert not list(models.glob("*.reserved"))  # the cut-short round gave its name back
    again = new_window(qtbot, pets, tiny_model)
    try:
        assert again.model_actions.learn_as_i_correct.isChecked()
        with qtbot.waitSignal(again.learning.round_finished, timeout=ROUND_MS) as done:
            pass  # no correction needed: the last round never finished
        assert done.args[0].model_path is not None
        assert done.args[0].model_path.name == "pets-v1.safetensors"  # no number skipped
    finally:
        again.close()


def promoted_then_rolled_back(qtbot, win, monkeypatch):
    """A promoted first round, then Roll Back: the start model in use, the version previous."""
    start_version = win.models.active_version
    gate_scores(monkeypatch, start_version, candidate_better=True)
    win.learning.panel.k_spin.setValue(2)
    with qtbot.waitSignal(win.learning.round_finished, timeout=ROUND_MS) as done:
        win.model_actions.learn_as_i_correct.trigger()
    v1 = done.args[0]
    assert v1.promoted
    qtbot.waitUntil(lambda: win.models.active_version == v1.version, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not win.learning.running, timeout=TIMEOUT_MS)
    assert win.model_commands.rollback()
    root = win.session.workspace.root
    assert model_file(root, load_task(root).model) == win.models.slots.current.path
    assert win.models.slots.previous.version == v1.version
    gate_scores(monkeypatch, start_version, candidate_better=False)  # rounds: candidates
    return v1


def test_pruning_keeps_the_version_roll_back_holds(qtbot, tmp_path, tiny_model, monkeypatch):
    pets = make_pets(tmp_path / "pets", n_images=8, n_labelled=4)
    win = new_window(qtbot, pets, tiny_model)
    errors = []
    win.learning.error.connect(errors.append)
    win.task_commands.error.connect(errors.append)
    owner = None
    try:
        v1 = promoted_then_rolled_back(qtbot, win, monkeypatch)
        owner = win.task_commands.owner
        owner.keep_candidates = 1  # two candidate rounds would prune v1
        for i in (4, 5):
            qtbot.waitUntil(lambda: not win.learning.running, timeout=ROUND_MS)
            with qtbot.waitSignal(win.learning.round_finished, timeout=ROUND_MS):
                correct(qtbot, win, i)
        qtbot.waitUntil(lambda: not win.learning.running, timeout=ROUND_MS)
        assert v1.model_path.is_file()
        assert win.model_commands.rollback()  # to v1 again
        qtbot.waitUntil(lambda: model_file(pets, load_task(pets).model) == v1.model_path,
                        timeout=TIMEOUT_MS)
        with qtbot.waitSignal(win.learning.round_finished, timeout=ROUND_MS) as done:
            correct(qtbot, win, 6)
        assert done.args[0] is not None and done.args[0].model_path is not None
        assert not errors
    finally:
        if owner is not None:
            owner.keep_candidates = KEEP_CANDIDATES
        win.close()


def test_roll_back_to_a_model_whose_file_is_gone_is_refused(qtbot, win, pets, tiny_model,
                                                            monkeypatch):
    v1 = promoted_then_rolled_back(qtbot, win, monkeypatch)
    errors = []
    win.model_commands.error.connect(errors.append)
    v1.model_path.unlink()  # deleted outside the app
    assert not win.model_commands.rollback()
    assert "gone" in errors[-1] and v1.model_path.name in errors[-1]
    assert model_file(pets, load_task(pets).model) == tiny_model  # never a missing file
