"""What a prediction of one image is, without torch: the model's (``ml.inference.predictor``) and the
pixel classifier's from the strokes (``ml.strokes.stroke_prediction``, whose thread must not import
torch: that import holds the GIL for seconds, and the window stalls meanwhile)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Prediction:
    """One image's result. ``probs`` is None when the caller did not ask for it; the
    uncertainty map is empty (0 x 0) when the caller asked for its mean only (a batch
    prediction's writer: ``Predictor.predict_batch(uncertainty=False)``)."""

    labels: np.ndarray  # H x W uint8, the scheme's stored values
    probs: np.ndarray | None  # C x H x W float32 (float16 when asked), training-index order
    uncertainty: np.ndarray  # H x W float32, entropy / log(C), 0 (sure) .. 1 (uniform)
    score: float  # mean uncertainty of the image
