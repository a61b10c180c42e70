"""The forest's probabilities adjusted to the classes' shares in the images (issue 30)."""

from __future__ import annotations

import numpy as np

from unet_desktop.ml.strokes.prior_shift import labelled_shares, to_image_shares


def balanced_posteriors(share: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Pixels of class 1 (``share`` of them) at N(+1, 1), class 0 at N(-1, 1); the exact
    posteriors a classifier gives that takes both classes for equally common."""
    rng = np.random.default_rng(seed)
    truth = (rng.random((64, 64)) < share).astype(np.int64)
    x = rng.normal(np.where(truth == 1, 1.0, -1.0), 1.0)
    p1 = 1 / (1 + np.exp(-2 * x))
    return np.stack([1 - p1, p1]).astype(np.float32), truth


def test_a_rare_class_is_no_longer_taken_for_as_common_and_fewer_labels_are_wrong():
    probs, truth = balanced_posteriors(0.2)
    assert labelled_shares([probs])[1] < 0.4  # the balanced labels' share, closer than 0.5
    (adjusted,) = to_image_shares([probs], np.array([0.5, 0.5]))
    before = (probs.argmax(0) != truth).mean()
    after = (adjusted.argmax(0) != truth).mean()
    assert after < before - 0.02, (before, after)
    assert np.allclose(adjusted.sum(0), 1.0, atol=1e-5)


def test_equal_shares_stay_and_a_class_never_seen_stays_at_zero():
    probs, _ = balanced_posteriors(0.5, seed=1)
    (adjusted,) = to_image_shares([probs], np.array([0.5, 0.5]))
    assert np.abs(adjusted - probs).max() < 0.05
    three = np.concatenate([probs, np.zeros((1, 64, 64), np.float32)])
    (adjusted,) = to_image_shares([three], np.array([0.5, 0.5, 0.0]))
    assert not adjusted[2].any()
    assert np.allclose(adjusted.sum(0), 1.0, atol=1e-5)
