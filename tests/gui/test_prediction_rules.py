"""The Qt-free rules behind the window's predictions: when a prediction may replace a mask,
scheme conversion, the heat map, the model card, copying a model file."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme
from unet_desktop.gui.editing.uncertainty_layer import heat_lut, heat_rgba
from unet_desktop.gui.model.model_card_dialog import architecture_text, metric_rows, model_card_rows
from unet_desktop.gui.model.prediction_controller import adapt_labels, may_replace_automatically
from unet_desktop.ml.model_files import copy_model_file
from unet_desktop.ml.models.modelfile import ModelMeta


@pytest.mark.parametrize(("state", "user_edits", "accepted", "mask_version", "expected"), [
    (ImageState.UNLABELED, False, False, None, True),
    (ImageState.UNLABELED, True, False, None, False),  # painted before the prediction came
    (ImageState.PREDICTED, False, False, "v1", False),  # this model's mask is already there
    (ImageState.PREDICTED, False, False, "v0", True),  # an older model's guess is replaced
    (ImageState.PREDICTED, False, True, "v1", True),  # our own accepted prediction, unedited
    (ImageState.CORRECTED, False, False, None, False),
    (ImageState.CORRECTED, False, True, None, False),
    (ImageState.VERIFIED, False, False, "v0", False),
])
def test_when_a_prediction_may_replace_the_mask_by_itself(state, user_edits, accepted,
                                                          mask_version, expected):
    assert may_replace_automatically(state, user_edits, accepted, mask_version, "v1") is expected


def test_labels_are_converted_between_trimap_and_binary_or_refused():
    trimap = np.full((40, 40), 2, np.uint8)
    trimap[9:31, 9:31] = 3
    trimap[10:30, 10:30] = 1
    assert adapt_labels(trimap, trimap_scheme(), trimap_scheme()) is trimap
    binary = adapt_labels(trimap, trimap_scheme(), binary_scheme())
    np.testing.assert_array_equal(np.unique(binary), [0, 255])
    assert binary[20, 20] == 255 and binary[0, 0] == 0 and binary[9, 9] == 255  # border counts
    back = adapt_labels(binary, binary_scheme(), trimap_scheme())
    np.testing.assert_array_equal(np.unique(back), [1, 2, 3])
    assert back[20, 20] == 1 and back[0, 0] == 2 and back[9, 20] == 3
    with pytest.raises(ValueError, match="predicts trimap masks .* multiclass"):
        adapt_labels(trimap, trimap_scheme(), multiclass_scheme(5))


def test_heat_map_is_transparent_where_sure_and_bright_where_unsure():
    lut = heat_lut()
    assert lut.shape == (256, 4) and lut[0, 3] == 0 and lut[255, 3] > 200
    assert np.all(np.diff(lut[:, 3].astype(int)) >= 0)  # more unsure, more opaque
    rgba = heat_rgba(np.array([[0.0, 1.0], [np.nan, 0.5]], np.float32))
    assert rgba.shape == (2, 2, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, 3] == 0 and rgba[1, 0, 3] == 0  # NaN is drawn as sure
    np.testing.assert_array_equal(rgba[0, 1], lut[255])


def test_model_card_rows_describe_the_model(tmp_path):
    meta = ModelMeta(arch={"name": "unet", "in_channels": 3, "num_classes": 3, "depth": 4,
                           "base": 16}, scheme=trimap_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=256,
                     version="v2", parent_version="v1", name="pets",
                     metrics={"miou": 0.81234}, data_summary={"images": 120})
    rows = dict(model_card_rows(meta, tmp_path / "pets.safetensors"))
    assert rows["Version"] == "v2" and rows["Parent version"] == "v1"
    assert rows["Training size"] == "256 px" and rows["Scale"].startswith("whole image")
    assert rows["Label scheme"] == "trimap: 1 foreground, 2 background, 3 border"
    assert rows["Data: images"] == "120" and not any(k.startswith("Metric") for k in rows)
    assert metric_rows(meta.metrics, ["foreground"]) == [("miou", "0.8123")]
    assert rows["Architecture"] == architecture_text(meta.arch) == \
        "unet (depth 4, base 16, 3 -> 3 channels)"
    assert "trained from scratch" in dict(model_card_rows(
        ModelMeta(**{**meta.__dict__, "parent_version": None})))["Parent version"]


def test_copying_a_model_file_is_whole_or_nothing(tmp_path):
    source = tmp_path / "a.safetensors"
    source.write_bytes(b"weights" * 1000)
    target = tmp_path / "out" / "b.safetensors"
    target.parent.mkdir()
    assert copy_model_file(source, target) == target
    assert target.read_bytes() == source.read_bytes()
    assert copy_model_file(source, source) == source  # onto itself: nothing to do
    with pytest.raises(ModelFileError, match="missing.safetensors: no such file"):
        copy_model_file(tmp_path / "missing.safetensors", target)
    assert target.read_bytes() == source.read_bytes()
