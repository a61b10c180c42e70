"""A loss on the pixels nobody labelled (strokes): it places the boundary where the labels
don't.

:func:`edge_aware_smoothness` (a local, image-gated Potts term in the spirit of the gated CRF
loss of Obukhov et al. 2019): neighbouring pixels of similar intensity are pushed to the same
class, pixels across an image edge are free to differ, so the labels of the strokes spread up to
the image's edges. It takes ``logits`` B x C x H x W and ``target`` B x H x W (``IGNORE_INDEX`` =
unlabeled) and is 0 when every pixel is labelled.
"""

from __future__ import annotations

import torch

from unet_desktop.core.labels import IGNORE_INDEX

# (dy, dx) neighbours: each pair once; 1 and 2 px apart
OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1), (0, 2), (2, 0))
EDGE_SIGMA = 0.25  # intensity difference (in units of the image's standard deviation) of an edge


def _shifted(x: torch.Tensor, dy: int, dx: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(x at p, x at p + (dy, dx)) over the pixels p where both lie in the image."""
    h, w = x.shape[-2:]
    y0, y1 = max(0, -dy), h - max(0, dy)
    x0, x1 = max(0, -dx), w - max(0, dx)
    return x[..., y0:y1, x0:x1], x[..., y0 + dy:y1 + dy, x0 + dx:x1 + dx]


def edge_aware_smoothness(logits: torch.Tensor, target: torch.Tensor, images: torch.Tensor,
                          sigma: float = EDGE_SIGMA,
                          ignore_index: int = IGNORE_INDEX) -> torch.Tensor:
    """Mean over neighbour pairs with an unlabeled pixel of
    ``exp(-|I_p - I_q|^2 / (2 sigma^2)) * (1 - <P_p, P_q>)``; ``images`` B x K x H x W (the
    network's normalised input, intensities compared per channel after dividing by the batch's
    standard deviation)."""
    probs = logits.float().softmax(dim=1)
    unlabeled = (target == ignore_index).unsqueeze(1)
    images = images.float()
    images = images / images.std().clamp_min(1e-6)
    total = logits.new_zeros((), dtype=torch.float32)
    count = logits.new_zeros((), dtype=torch.float32)
    for dy, dx in OFFSETS:
        pa, pb = _shifted(probs, dy, dx)
        ia, ib = _shifted(images, dy, dx)
        ua, ub = _shifted(unlabeled, dy, dx)
        gate = torch.exp(-((ia - ib) ** 2).sum(1, keepdim=True) / (2 * sigma ** 2))
        pairs = (ua | ub).float()
        total = total + (gate * pairs * (1 - (pa * pb).sum(1, keepdim=True))).sum()
        count = count + pairs.sum()
    return total / count.clamp_min(1.0)
