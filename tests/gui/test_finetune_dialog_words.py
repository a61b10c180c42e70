"""The fine-tune dialog's words: at native scale the size is a crop size; the validation
fraction names the image(s) that will validate, or says that none will (issue 33, item 7)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog


def test_size_and_validation_are_worded_for_what_happens(qtbot, models, tmp_path):
    ws = Workspace.open(make_pets(tmp_path / "pets", n_images=4, n_labelled=2))
    dialog = FinetuneDialog(models.active, ws, tmp_path / "trained", device="cpu")
    qtbot.addWidget(dialog)
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("fit"))
    assert dialog.size_label.text() == "Image size:"
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("native"))
    assert dialog.size_label.text() == "Crop size:"
    assert "crop" in dialog.size_spin.toolTip().lower()
    dialog.val_spin.setValue(0.2)
    text = dialog.validation_label.text()
    two = [image_key(0), image_key(1)]
    held_out = [k for k in two if f"Validates on {k.rsplit('/', 1)[-1]}" in text]
    assert len(held_out) == 1, text  # one of the two images, by name
    trained = next(k for k in two if k not in held_out)
    assert f"trains on {trained.rsplit('/', 1)[-1]}" in text, text
    config = dialog.config()
    from unet_desktop.ml.training.dataset import split_indices

    _train, val = split_indices(two, config.val_fraction, config.seed, config.group_fn)
    assert [two[i] for i in val] == held_out  # the very image the run will hold out
    dialog.val_spin.setValue(0.0)
    assert "No image validates" in dialog.validation_label.text()
    assert "training images" in dialog.validation_label.text()


def test_in_a_task_folder_the_frozen_validation_set_is_named_and_the_fraction_is_off(
        qtbot, models, tmp_path):
    from unet_desktop.gui.training.finetune_plan import TaskPlan

    ws = Workspace.open(make_pets(tmp_path / "pets", n_images=6, n_labelled=4))
    keys = [e.key for e in ws.labelled()]

    def dialog_for(holdout):
        plan = TaskPlan(tmp_path / "pets-v1.safetensors", "pets-v1", None, False, "new",
                        holdout=holdout)
        dialog = FinetuneDialog(models.active, ws, tmp_path / "trained", device="cpu",
                                plan=plan)
        qtbot.addWidget(dialog)
        return dialog

    dialog = dialog_for((keys[1], keys[3]))
    assert not dialog.val_spin.isEnabled()  # the folder's set decides, whatever the fraction
    text = dialog.validation_label.text()
    for key in (keys[1], keys[3]):
        assert key.rsplit("/", 1)[-1] in text, text
    assert keys[0].rsplit("/", 1)[-1] not in text and "(2 of 4)" in text, text
    assert "nothing held out" not in dialog.rule_label.text()
    dialog.val_spin.setValue(0.5)
    assert dialog.validation_label.text() == text
    one = dialog_for((keys[0],)).validation_label.text()
    assert "not validated" in one and "fewer than 2" in one, one
