"""Where a prediction is wrong: on the true outlines or inside the regions.

A wrong pixel within :data:`BAND` px (chessboard distance) of a pixel of another labelled class
in the truth lies on an outline: the prediction drew that outline a pixel or two off, as even
two careful annotators do. The other wrong pixels lie inside a region: a structure missed or
one that is not there. ``evaluate --places`` prints the split; on unseen ISBI slices it told the
strokes model (0.115 wrong) from the fully labelled one (0.105): two thirds of the difference
lie inside the regions, membrane the model missed (docs/quality.md, "Learning from strokes").
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from unet_desktop.core.labels import IGNORE_INDEX

BAND = 1


def outline_band(truth: np.ndarray, band: int = BAND,
                 ignore_index: int = IGNORE_INDEX) -> np.ndarray:
    """H x W bool: labelled pixels within ``band`` px of a labelled pixel of another class
    (``truth``: training indices, ``ignore_index`` where nobody labelled)."""
    kernel = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    near = np.zeros(truth.shape, np.uint8)  # how many classes lie within the band
    for c in np.unique(truth):
        if c != ignore_index:
            near += cv2.dilate((truth == c).astype(np.uint8), kernel)
    return (near >= 2) & (truth != ignore_index)


@dataclass
class ErrorPlaces:
    """Pixel counts summed over images."""

    scored: int = 0
    on_outlines: int = 0  # scored pixels in the outline band
    wrong_on_outlines: int = 0
    wrong_inside: int = 0

    def add(self, predicted: np.ndarray, truth: np.ndarray,
            ignore_index: int = IGNORE_INDEX) -> None:
        """Count one image (both H x W training indices)."""
        if predicted.shape != truth.shape:
            raise ValueError(f"prediction {predicted.shape} and mask {truth.shape} differ in size")
        scored = truth != ignore_index
        band = outline_band(truth, ignore_index=ignore_index)
        wrong = (predicted != truth) & scored
        self.scored += int(scored.sum())
        self.on_outlines += int(band.sum())
        self.wrong_on_outlines += int((wrong & band).sum())
        self.wrong_inside += int((wrong & ~band).sum())

    def fractions(self) -> dict:
        """Shares of the scored pixels: wrong ones on outlines and inside, and the band's."""
        total = max(1, self.scored)
        return {"wrong_on_outlines": self.wrong_on_outlines / total,
                "wrong_inside": self.wrong_inside / total,
                "outline_band": self.on_outlines / total}

    def line(self) -> str:
        f = self.fractions()
        return (f"wrong pixels: {f['wrong_on_outlines']:.3f} within {BAND} px of a true "
                f"outline (the band holds {f['outline_band']:.1%} of the pixels), "
                f"{f['wrong_inside']:.3f} inside regions")
