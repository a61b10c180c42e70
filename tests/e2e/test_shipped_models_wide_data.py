"""The shipped starter models on 12-bit data: their files recorded no input rule, so a 16-bit
file was divided by 65535 and a 12-bit photo reached the model nearly black (a held-out Carvana
view stored as 12-bit: 81 % foreground against 21 % as 8-bit, without a word). They carry the
data-range rule of new models now: 8-bit images as stored, a 12-bit one by 4095."""

from __future__ import annotations

import numpy as np
import pytest

from unet_desktop.core.io.imageio import read_image_raw
from unet_desktop.core.io.paths import models_dir
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.modelfile import load_model_file

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("model, image", [
    ("pets-trimap", "pets/images/Abyssinian_1.jpg"),
    ("carvana-binary", "carvana/images/00087a6bd4dc_01.jpg"),
])
def test_a_12_bit_copy_of_an_image_is_predicted_as_the_8_bit_one(shared_data, model, image):
    net, meta = load_model_file(models_dir() / f"{model}.safetensors")
    assert meta.input_rule["kind"] == "data-range"
    # a new version with the rule: a batch run skips images "already predicted by this version"
    assert meta.version not in ("20261203-092414-f5d255", "20261203-100315-606207")
    eight = read_image_raw(shared_data / image)
    twelve = np.round(eight.astype(np.float64) * 4095 / 255).astype(np.uint16)
    predictor = Predictor(net, meta, "cpu")
    as_eight = predictor.predict(eight, probs=False).labels
    as_twelve = predictor.predict(twelve, probs=False).labels
    assert np.mean(as_eight != as_twelve) < 0.005
