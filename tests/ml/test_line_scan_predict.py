"""Resize mode on a line scan (1 x N or N x 1): the image is not blown up to train_size x
train_size * N pixels (1 x 4000 became 320 x 1,280,000 and the process was killed); its one
forward pass stays the size of a squarer image's, and a batch goes on with the other images."""

from __future__ import annotations

import numpy as np
import torch

from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.inference.predictor import MAX_ASPECT, Predictor, resize_shape

torch.set_num_threads(1)


def test_the_longer_side_is_capped_and_usual_shapes_keep_the_training_scale():
    assert resize_shape(1, 4000, 320) == (1, MAX_ASPECT * 320)
    assert resize_shape(4000, 1, 320) == (MAX_ASPECT * 320, 1)
    assert resize_shape(64, 128, 32) == (32, 64)  # the shorter side at the training scale
    assert resize_shape(10, 15, 32) == (32, 48)
    assert resize_shape(10, 10 * MAX_ASPECT, 32) == (32, 32 * MAX_ASPECT)  # the limit itself
    assert resize_shape(10, 90, 32) == (28, 32 * MAX_ASPECT)  # beyond: by the longer side


def test_a_batch_with_line_scans_predicts_every_image_at_its_size(model_file_factory):
    path, meta = model_file_factory(binary_scheme(), in_channels=1)
    predictor = Predictor.from_file(path, device="cpu", engine="torch")
    seen: list[tuple[int, ...]] = []
    run = predictor._run
    predictor._run = lambda x: (seen.append(tuple(x.shape[-2:])), run(x))[1]
    images = [np.full((1, 1000), 128, np.uint8), np.full((1000, 1), 128, np.uint8),
              np.full((20, 30), 128, np.uint8)]
    predictions = predictor.predict_batch(images)
    assert [p.labels.shape for p in predictions] == [(1, 1000), (1000, 1), (20, 30)]
    assert max(max(shape) for shape in seen) <= MAX_ASPECT * meta.train_size
