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
from unet_desktop.core.workspace import Workspace
from unet_desktop.gui.finetune_dialog import FinetuneDialog


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
    from unet_desktop.ml.dataset import split_indices

    _train, val = split_indices(two, config.val_fraction, config.seed, config.group_fn)
    assert [two[i] for i in val] == held_out  # the very image the run will hold out
    dialog.val_spin.setValue(0.0)
    assert "No image validates" in dialog.validation_label.text()
    assert "training images" in dialog.validation_label.text()
