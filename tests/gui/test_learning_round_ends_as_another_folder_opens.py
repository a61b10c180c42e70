"""A learning round that has ended on the worker, its end not yet delivered to the window, as
another folder opens (the window is busy reading it), whose own model loads: that load is no
model put into use in the round's folder, so a promoted round is put into use there (it was
kept as a candidate, 'another model was being put into use as it finished', and the folder's
model in use never learnt those corrections).

``worker.wait_until_finished(job)`` blocks the UI thread as a long folder open does, so the
round's end always arrives after the open."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import shutil

from tests.gui.conftest_model import TIMEOUT_MS, make_model_file, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import new_window, pets  # noqa: F401
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme


def test_a_round_ending_as_another_folder_opens_is_put_into_use_in_its_own(qtbot, pets,
                                                                           tiny_model, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(pets / "images", other / "images")
    b_model = make_model_file(tmp_path / "bmodel" / "b.safetensors", seed=3, name="b")
    save_task(other, Task("other", trimap_scheme(), model=str(b_model)))
    win = new_window(qtbot, pets, tiny_model)
    win.model_actions.learn_as_i_correct.trigger()
    job = win.learning.round_job
    assert job is not None
    assert win.worker.wait_until_finished(job, 120)  # ended; the window has not heard yet
    assert win.open_folder(other)  # B's own model loads
    qtbot.waitUntil(lambda: win.learning.round_job is not job and not win.models.loading,
                    timeout=TIMEOUT_MS)
    task = load_task(pets)
    [version] = task.versions
    assert "another model was being put into use" not in version.note
    assert version.note.startswith("learning loop: Promoted")  # 4 images, none validates yet
    assert task.model == version.file  # A's model in use learnt A's corrections
    assert load_task(other).model == str(b_model)

    assert win.open_folder(pets)  # back in A: it predicts with what it learnt
    qtbot.waitUntil(lambda: not win.models.loading and win.models.active is not None
                    and win.models.active.path.name == "pets-v1.safetensors",
                    timeout=TIMEOUT_MS)
    win.close()
