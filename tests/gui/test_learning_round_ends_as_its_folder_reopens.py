"""A learning round that has ended on the worker, its end not yet delivered to the window, as
its own folder opens again (File > Open of the open folder; Mask > Classes reopens it too):
the reopen put the task's model into use, so the round keeps nothing, as the dock says (it was
recorded as the model in use while the dock said 'cancelled ... nothing kept', the window
predicted with the old model, and the next round started from that one over the orphaned
version).

``worker.wait_until_finished(job)`` blocks the UI thread as a long folder open does, so the
round's end always arrives after the open."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import new_window, pets  # noqa: F401
from unet_desktop.core.folder.task import load_task, model_file
from unet_desktop.ml.models.modelfile import read_meta


def said_by(dock) -> list[str]:
    """Every status line the training dock is given from now on."""
    said = []
    show_round = dock.show_round
    dock.show_round = lambda status, cancel=None: (said.append(status),
                                                   show_round(status, cancel))[1]
    return said


def test_a_round_ending_as_its_folder_opens_again_keeps_nothing(qtbot, pets, tiny_model):
    win = new_window(qtbot, pets, tiny_model)
    said = said_by(win.training_dock)
    win.model_actions.learn_as_i_correct.trigger()
    job = win.learning.round_job
    assert job is not None
    assert win.worker.wait_until_finished(job, 120)  # ended; the window has not heard yet
    ended = read_meta(model_file(pets, "models/pets-v1.safetensors")).version
    finished = []
    win.learning.worker.job_finished.connect(
        lambda j: finished.append(j) if j is job else None)
    assert win.open_folder(pets)  # File > Open of the folder that is open
    qtbot.waitUntil(lambda: bool(finished) and not win.models.loading, timeout=TIMEOUT_MS)
    assert "Learning round pets-v1 cancelled: the folder was opened again; nothing kept." in said
    task = load_task(pets)
    assert all(v.name != "pets-v1" for v in task.versions)  # as the dock said
    assert not model_file(pets, "models/pets-v1.safetensors").exists()
    # the images it took go into the next round (its name is free again), from the model the
    # window predicts with
    qtbot.waitUntil(lambda: bool(load_task(pets).versions) and not win.learning.running
                    and not win.models.loading, timeout=TIMEOUT_MS)
    task = load_task(pets)
    [version] = task.versions
    assert version.version != ended and version.parent_name == "tiny"
    assert task.model == version.file
    assert win.models.active.path == model_file(pets, version.file)  # the window agrees
    win.close()
