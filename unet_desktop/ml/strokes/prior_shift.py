"""The pixel classifier's probabilities adjusted to the classes' shares in the images themselves.

The forest is fitted with balanced class weights, so its probabilities assume every class is
equally common; strokes say nothing about how common a class really is (a user paints thin
membranes about as much as broad cells). Bayes' rule for a change of priors (Saerens, Latinne &
Decaestecker 2002) moves them to the shares of the classes the forest itself labels over all
pixels: p(c|x) * share[c] / assumed[c], renormalised. (Their EM re-estimation of the shares was
tried too: as good on real strokes, but it ran away on a generated disc whose boundary no
stroke came near.)

Wrong labels of the unpainted pixels after two auto-context stages (bench/stroke_fill_quality.py,
the first two images scribbled): ISBI 0.116 -> 0.101 (the forest's membrane share 27 % -> 24 %,
truth 22 %), CamVid 0.083 -> 0.068; on the generated disc of tests/ml/test_stroke_fill.py, whose
balanced estimate was right already, 0.019 -> 0.030 (docs/quality.md). So the training fill
(``ml.strokes.autocontext``), which the UNet learns from and whose effect was measured on unseen
slices, uses it; the live prediction shows the forest's own probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def labelled_shares(probabilities: Sequence[np.ndarray]) -> np.ndarray:
    """Each class's share of the pixels it wins (argmax) over all the C x H x W maps."""
    counts = sum(np.bincount(p.argmax(axis=0).ravel(), minlength=len(p)) for p in probabilities)
    return counts / max(1, int(np.sum(counts)))


def adjust(probabilities: Sequence[np.ndarray], assumed: np.ndarray,
           shares: np.ndarray) -> list[np.ndarray]:
    """Bayes' rule for a change of priors: p(c|x) * shares[c] / assumed[c], renormalised (a
    class assumed 0 stays 0)."""
    assumed = np.asarray(assumed, np.float64)
    ratio = np.divide(shares, assumed, out=np.zeros(len(assumed)), where=assumed > 0)
    out = []
    for p in probabilities:
        a = p * ratio.astype(np.float32)[:, None, None]
        out.append(a / np.maximum(a.sum(axis=0, keepdims=True), 1e-12))
    return out


def to_image_shares(probabilities: Sequence[np.ndarray],
                    assumed: np.ndarray) -> list[np.ndarray]:
    """``probabilities`` (made under the shares ``assumed``) adjusted to the shares of the
    classes they label (module docstring)."""
    return adjust(probabilities, assumed, labelled_shares(probabilities))
