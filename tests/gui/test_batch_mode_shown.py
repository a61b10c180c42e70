"""Batch Predict shows the mode the model will really use: a native-scale model predicts in
tiles whatever the mode, so the dialog says "tile" and does not offer "resize" (issue 33,
item 6)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from dataclasses import replace

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    model_worker,
    tiny_pets,
)
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.model.batch_predict_dialog import BatchPredictDialog
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.ml.models.modelfile import load_model_file, save_model


def native_copy(fit_model, path):
    model, meta = load_model_file(fit_model)
    save_model(path, model, replace(meta, scale="native", version=meta.version + "-native"))
    return path


def test_the_mode_box_says_what_the_model_does(qtbot, model_worker, tiny_pets, tmp_path):
    fit = make_model_file(tmp_path / "fit.safetensors")
    native = native_copy(fit, tmp_path / "native.safetensors")
    models = ModelController(model_worker, device="cpu", mode="resize")
    with qtbot.waitSignal(models.model_changed, timeout=TIMEOUT_MS):
        models.load(native)
    dialog = BatchPredictDialog(models, Workspace.open(tiny_pets))
    qtbot.addWidget(dialog)
    assert dialog.mode_combo.currentText() == "tile"
    assert not dialog.mode_combo.isEnabled()
    assert "native-scale" in dialog.mode_combo.toolTip()
    assert dialog.settings().mode == "tile"
    dialog.model_edit.setText(str(fit))  # another model file: a fit-scale one
    assert dialog.mode_combo.isEnabled() and dialog.mode_combo.currentText() == "resize"
    dialog.model_edit.setText(str(native))
    assert dialog.mode_combo.currentText() == "tile" and not dialog.mode_combo.isEnabled()
    dialog.model_edit.setText("")  # back to the model predicting now (native)
    assert dialog.mode_combo.currentText() == "tile"
