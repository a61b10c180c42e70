"""The auto-context forest behind the stroke fill (ml.strokes.autocontext) and the fill's confidence."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ml.test_stroke_fill import disc_with_strokes, sample
from unet_desktop.core.labels import IGNORE_INDEX
from unet_desktop.ml.strokes.autocontext import autocontext_probabilities, context_features
from unet_desktop.ml.training.stroke_fill import fill_strokes


@pytest.mark.parametrize("stages", [1, 2])
def test_each_stage_finds_the_disc_from_strokes_inside_and_outside(stages):
    image, truth, strokes = disc_with_strokes()
    (probs,) = autocontext_probabilities([image], [strokes], num_classes=2, stages=stages)
    assert probs.shape == (2, *truth.shape)
    assert np.allclose(probs.sum(0), 1, atol=1e-5)
    assert (probs.argmax(0) == truth).mean() > 0.95


def test_context_adds_the_smoothed_probabilities_of_the_foreground_or_each_class():
    features = np.zeros((8, 8, 5), np.float32)
    assert context_features(features, np.full((2, 8, 8), 0.5, np.float32)).shape == (8, 8, 9)
    assert context_features(features, np.full((3, 8, 8), 0.3, np.float32)).shape == (8, 8, 17)


def test_an_unsure_fill_leaves_pixels_unlabeled_and_keeps_the_strokes():
    image, truth, strokes = disc_with_strokes()
    sure = fill_strokes([sample(image, strokes)], 2, min_confidence=0.9)[0].target.numpy()
    painted = strokes != IGNORE_INDEX
    assert (sure[painted] == strokes[painted]).all()
    filled = sure != IGNORE_INDEX
    assert 0 < (~filled).sum() < 0.5 * filled.size  # some left out, most filled
    assert (sure[filled] == truth[filled]).mean() >= 0.97


def test_no_stage_is_refused():
    image, _, strokes = disc_with_strokes()
    with pytest.raises(ValueError, match="stages"):
        autocontext_probabilities([image], [strokes], 2, stages=0)


def test_the_fill_of_thin_membranes_takes_their_share_in_the_image_not_the_strokes(gray_cells):
    """Membranes stroked as much as cells although they are a small share of the image: the
    balanced forest widens them; adjusted to the image's shares the fill is closer to the truth
    (ml.strokes.prior_shift)."""
    import cv2

    image, membrane, _ = gray_cells(192, seed=2, membrane=3)
    truth = membrane.astype(np.uint8)  # 1: membrane
    rng = np.random.default_rng(0)
    strokes = np.full(truth.shape, IGNORE_INDEX, np.uint8)
    for c in (0, 1):  # as many stroked pixels of each class, inside its eroded region
        region = cv2.erode((truth == c).astype(np.uint8), np.ones((3, 3), np.uint8)) if c == 0 \
            else (truth == 1).astype(np.uint8)
        ys, xs = np.nonzero(region)
        pick = rng.choice(len(ys), 600, replace=False)
        strokes[ys[pick], xs[pick]] = c
    unpainted = strokes == IGNORE_INDEX
    wrong, share = {}, {}
    for adjusted in (False, True):
        (probs,) = autocontext_probabilities([image], [strokes], 2, image_shares=adjusted)
        labels = probs.argmax(0)
        wrong[adjusted] = (labels != truth)[unpainted].mean()
        share[adjusted] = (labels == 1).mean()
    assert abs(share[True] - truth.mean()) < abs(share[False] - truth.mean())
    assert wrong[True] < wrong[False]
