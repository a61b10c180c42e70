"""Training > Fine-tune ending (on the worker, its end not yet delivered to the window) as
another folder opens, whose own model loads: that load is no model put into use in the run's
folder, so the fine-tune is put into use there (it was kept as a candidate, 'another model was
being put into use as it finished'). And a model file that pruning after the run could not
delete is named in the fine-tune's verdict.

``worker.wait_until_finished(job)`` blocks the UI thread as a long folder open does, so the
run's end always arrives after the open."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import shutil

from tests.gui.conftest_model import TIMEOUT_MS, make_model_file, tiny_model  # noqa: F401
from tests.gui.test_learning_loop import pets, win  # noqa: F401
from tests.gui.test_models_meet import start_fine_tune
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.loop.folder_models import FolderModels


def test_a_fine_tune_ending_as_another_folder_opens_is_put_into_use_in_its_own(
        qtbot, win, pets, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(pets / "images", other / "images")
    b_model = make_model_file(tmp_path / "bmodel" / "b.safetensors", seed=3, name="b")
    save_task(other, Task("other", trimap_scheme(), model=str(b_model)))
    start_fine_tune(win)
    job = win.training_dock.job
    assert job is not None
    assert win.worker.wait_until_finished(job, 120)  # ended; the window has not heard yet
    with qtbot.waitSignal(win.training_dock.model_trained, timeout=TIMEOUT_MS):
        assert win.open_folder(other)  # B's own model loads
        assert win.models.loading
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    task = load_task(pets)
    [version] = task.versions
    assert "another model was being put into use" not in version.note
    assert task.model == version.file  # A's model in use is the fine-tune
    assert load_task(other).model == str(b_model)


def test_a_file_pruning_could_not_delete_is_named_in_the_verdict(qtbot, win, monkeypatch):
    held = "pets-v0.safetensors: cannot delete it (in use); kept, deleted at a later prune"
    monkeypatch.setattr(FolderModels, "_prune_after_run", lambda self, keep: held)
    with qtbot.waitSignal(win.training_dock.model_trained, timeout=TIMEOUT_MS):
        start_fine_tune(win)
    result = win.training_dock.result_label.text()
    assert result.startswith(("Saved", "Time limit", "Step limit", "Stopped early")), result
    assert result.endswith(f" {held}."), result
