"""The pixel classifier's features are written plane by plane into one array: stacking a list
of planes held every plane twice (opening a 2000 x 2000 image in a sparse task peaked at 1.3 GB
for 0.6 GB of features; an 8000 x 8000 one could not open)."""

from __future__ import annotations

import tracemalloc

import numpy as np

from unet_desktop.ml.strokes.pixel_classifier import feature_count, filter_features


def test_features_peak_at_little_more_than_the_features_themselves():
    image = np.random.default_rng(0).integers(0, 256, (400, 500, 3), dtype=np.uint8)
    tracemalloc.start()
    features = filter_features(image)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert features.shape == (400, 500, feature_count(True))
    assert peak < 1.6 * features.nbytes  # the stacked list: 2.3 x
