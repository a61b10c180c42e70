"""Each predictor owns its network; jobs take the prediction options by value; one folder
identity (issue 18, items 8, 9 and 10). Each test failed before its fix."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import os

import pytest
import torch

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from tests.gui.helpers import block
from unet_desktop.core.folder import workspace as workspace_module
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.progress import CancelToken
from unet_desktop.gui.model.batch_predict_dialog import BatchSettings, batch_job
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.ml.inference.predictor import Predictor


def test_moving_the_window_model_does_not_move_the_batch_runs_network(qtbot, model_worker,
                                                                     tiny_model, tmp_path,
                                                                     monkeypatch):
    """Item 8: Model > Device (or an out-of-memory fallback) moves the window's network in
    place; a batch run started before must go on with its own network on its own device.
    PyTorch runs the networks (as on a GPU; on the CPU ONNX Runtime would run a copy)."""
    monkeypatch.setattr(Predictor, "_onnx_network", lambda self, *args: None)
    models = ModelController(model_worker, device="cpu")
    with qtbot.waitSignal(models.model_changed, timeout=TIMEOUT_MS):
        models.load(tiny_model)
    pets = make_pets(tmp_path / "pets", n_images=4, n_labelled=0)
    run = batch_job(BatchSettings(pets, output=tmp_path / "out"), models, None)(CancelToken())
    first = next(p for p in run if p.done)  # the run has predicted its first image
    assert first.done < first.total and not first.failed
    window_predictor = models.active.predictor.inner
    assert window_predictor.engine == "torch"
    # Module.to(device) converts every parameter in place; on a machine with one device the
    # same in-place conversion to another dtype shows whether the batch's network moved too
    window_predictor.model.to(torch.float64)
    results = [r for progress in run for r in progress.results]
    assert results and all(r.status == "predicted" for r in results), \
        [r.reason for r in results if r.status != "predicted"]


def test_a_load_queued_after_a_mode_change_predicts_in_the_new_mode(qtbot, models, tmp_path):
    """Item 9: the options a load job uses are those of the moment it was asked for, even
    when the option job before it has not run yet."""
    second = make_model_file(tmp_path / "second.safetensors", seed=1, name="second")
    gate = block(models.worker)
    models.set_mode("tile")
    models.set_tta(True)
    models.load(second)
    assert models.mode == "tile" and models.tta  # the UI's value, at once
    with qtbot.waitSignal(models.predictions_invalidated, timeout=TIMEOUT_MS):
        gate.set()
    qtbot.waitUntil(lambda: models.active.meta.name == "second", timeout=TIMEOUT_MS)
    predictor = models.active.predictor.inner
    assert predictor.mode == "tile" and predictor.tta
    assert models.slots.previous.predictor.inner.mode == "tile"


def test_a_folder_opened_through_a_link_is_not_opened_twice(models, tmp_path, monkeypatch):
    """Item 10: the batch run over the open folder, named through a symbolic link (or the
    other way round), uses the window's workspace, not a second one on the same files."""
    pets = make_pets(tmp_path / "pets", n_images=3, n_labelled=0)
    link = tmp_path / "link-to-pets"
    os.symlink(pets, link, target_is_directory=True)
    opened = []
    real_open = workspace_module.Workspace.open.__func__
    monkeypatch.setattr(workspace_module.Workspace, "open", classmethod(
        lambda cls, *a, **k: opened.append(a) or real_open(cls, *a, **k)))
    for opened_as, asked_as in ((link, pets), (pets, link)):
        ws = real_open(Workspace, opened_as)
        opened.clear()
        for _ in batch_job(BatchSettings(asked_as, overwrite=True), models, ws)(CancelToken()):
            pass
        assert opened == []
        assert all(e.state is ImageState.PREDICTED for e in ws)  # the window's own entries


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield
