"""Batch Predict's "Overwrite" box: what it says is what a run does. Unticked (the default), the
masks an earlier model predicted are kept (after a fine-tune, the first model's masks stay);
ticked, they are predicted again by the model in use, and corrected masks still never are."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_model_file,
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.gui.model.batch_predict_dialog import BatchPredictDialog
from unet_desktop.ml.models.modelfile import load_model_file


def run_to_end(qtbot, dialog):
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as done:
        assert dialog.start() is not None
    return done.args[0]


def test_the_box_says_what_a_run_does_with_an_earlier_models_masks(qtbot, models, tmp_path):
    pets = make_pets(tmp_path / "pets", n_images=4, n_labelled=1)
    ws = Workspace.open(pets, writer=True)
    dialog = BatchPredictDialog(models, ws)
    qtbot.addWidget(dialog)
    earlier = make_model_file(tmp_path / "models" / "earlier.safetensors", seed=3)
    earlier_version = load_model_file(earlier)[1].version
    dialog.model_edit.setText(str(earlier))
    first = run_to_end(qtbot, dialog)
    assert len(first.written) == 3
    masks = {key: ws[key].mask_path.read_bytes() for key, _ in first.written}

    assert not dialog.overwrite_check.isChecked()
    text = dialog.overwrite_check.text() + " " + dialog.overwrite_hint.text()
    assert "earlier model" in text and "kept" in text and ".unet-desktop/replaced/" in text
    dialog.model_edit.setText("")  # the model in use: the later one
    kept = run_to_end(qtbot, dialog)
    assert kept.written == [] and not kept.failed
    reasons = dict(kept.skipped)
    assert all("another model version" in reasons[key] for key in masks)
    assert {key: ws[key].mask_path.read_bytes() for key in masks} == masks
    assert {ws[key].model_version for key in masks} == {earlier_version}

    dialog.overwrite_check.setChecked(True)
    replaced = run_to_end(qtbot, dialog)
    assert sorted(k for k, _ in replaced.written) == sorted(masks)
    assert dict(replaced.skipped)[image_key(0)] == "kept: marked corrected"
    assert {ws[key].model_version for key in masks} == {models.active_version}
    assert ws[image_key(0)].state is ImageState.CORRECTED
    ws.close()
