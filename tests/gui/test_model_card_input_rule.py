"""The Model Card says how the model makes its input from the stored values: its input rule and
chosen channels (models review, bug 5)."""

from __future__ import annotations

from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.model.model_card_dialog import ModelCardDialog
from unet_desktop.ml.models.modelfile import ModelMeta


def _meta(rule: dict) -> ModelMeta:
    return ModelMeta(arch={"name": "unet", "in_channels": 1, "num_classes": 2},
                     scheme=binary_scheme(), normalization={"mean": [0.5], "std": [0.25]},
                     train_size=64, version="v1", input_rule=rule)


def test_the_card_has_an_input_rule_row(qtbot):
    rule = {"kind": "data-range", "bits": 12, "channels": [1]}
    meta = _meta(rule)
    card = ModelCardDialog(meta)
    qtbot.addWidget(card)
    text = card.value_labels["Input rule"].text()
    assert text == f"data-range: {meta.rule.describe()}"
    assert "4095" in text and "channels 2" in text
