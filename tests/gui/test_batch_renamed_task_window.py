"""File > Batch Predict Folder with the model in use, the task's own, after Mask > Classes renamed
a class: the window accepts that model's predictions (its file makes it the task's), and the
batch run now asks the same rule with the same file; it refused the folder before."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.task import Task, prediction_mismatch, save_task
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.core.progress import CancelToken
from unet_desktop.gui.model.batch_predict_dialog import BatchSettings, batch_job


@pytest.mark.parametrize("own", [True, False])
def test_batch_predict_follows_the_window_rule_after_a_rename(models, tmp_path, own):
    pets = make_pets(tmp_path / "pets", n_images=2, n_labelled=0)
    scheme = models.active.meta.scheme
    renamed = trimap_scheme(("pet", "background", "border"))  # 'foreground' renamed
    assert scheme.names[0] == "foreground" and renamed.stored_values == scheme.stored_values
    task = Task("pets", renamed, model=str(models.active.path) if own else None)
    save_task(pets, task)
    window_refuses = prediction_mismatch(pets, task, models.active.path, scheme)
    assert (window_refuses is None) == own
    run = batch_job(BatchSettings(pets, overwrite=True), models, None)
    if own:
        last = list(run(CancelToken()))[-1]
        assert last.predicted == 2 and not last.failed
    else:
        with pytest.raises(ValueError, match="this folder's task labels pet, background"):
            list(run(CancelToken()))
    ws = Workspace.open(pets, writer=False)
    expected = ImageState.PREDICTED if own else ImageState.UNLABELED
    assert [e.state for e in ws] == [expected] * 2
    ws.close()


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield
