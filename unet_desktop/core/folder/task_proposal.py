"""What a new task proposes from the folder's own images: the scale the model should see them
at, and class colours that show on them. Qt-free and torch-free.

- **Scale**: thin structures (membranes, vessels, cracks) vanish when an image is shrunk to the
  model's input, so such folders are proposed ``native`` (crops at the images' own pixels,
  prediction in tiles). The measure (:func:`thin_structure_share`): in the middle 512 px of an
  image at its own resolution, the share of pixels on long thin lines, darker or brighter than
  their surroundings by at least ``LINE_CONTRAST`` of the image's range (a morphological black-
  or top-hat with a ``LINE_WIDTH`` px disc), counting only connected lines that reach across a
  quarter of that square (fur, grain and noise make short, scattered responses). Measured:
  ISBI 2012 EM slices 0.11-0.16, Carvana cars 0.006-0.017, Oxford pets 0. At least
  ``THIN_SHARE`` on the median sampled image proposes ``native``.
- **Colours** (:func:`visible_colors`): vivid colours, the ones that the sampled images' pixels
  come closest to last, so no class is black on a dark gray EM slice or red on a red car.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.labels import LabelScheme, default_color
from unet_desktop.core.smart.roi import as_rgb

LINE_WIDTH = 9  # px: the widest line that counts as thin
LINE_CONTRAST = 0.15  # of the image's 5-95 % range
LONG = 0.25  # a line reaching across this share of the square counts
THIN_SHARE = 0.05
SQUARE = 512
SAMPLE_IMAGES = 6
VIVID = ((255, 190, 0), (0, 150, 255), (255, 64, 64), (40, 200, 60), (190, 80, 255),
         (0, 220, 220), (255, 120, 0), (255, 0, 180))
NEAR = 80.0  # RGB distance at which a pixel hides a colour


@dataclass(frozen=True)
class Proposal:
    scale: str  # "fit" or "native"
    why: str  # one sentence for the dialog
    colors: tuple[tuple[int, int, int], ...] = ()


def thin_structure_share(image: np.ndarray) -> float:
    """Share of the middle square's pixels on long thin lines (module docstring)."""
    gray = cv2.cvtColor(as_rgb(image), cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    gray = np.asarray(gray)
    if gray.dtype != np.uint8:  # 16-bit and float data: their own range to 8 bits
        lo, hi = np.percentile(gray, (1, 99))
        gray = np.clip((gray - lo) / max(hi - lo, 1e-6) * 255, 0, 255).astype(np.uint8)
    h, w = gray.shape
    side = min(SQUARE, h, w)
    y0, x0 = (h - side) // 2, (w - side) // 2
    square = cv2.GaussianBlur(gray[y0:y0 + side, x0:x0 + side], (0, 0), 1.0)
    spread = float(np.percentile(square, 95) - np.percentile(square, 5)) + 1.0
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (LINE_WIDTH, LINE_WIDTH))
    best = 0.0
    for operation in (cv2.MORPH_BLACKHAT, cv2.MORPH_TOPHAT):  # dark lines, bright lines
        lines = (cv2.morphologyEx(square, operation, disc) > LINE_CONTRAST * spread)
        _, _, stats, _ = cv2.connectedComponentsWithStats(lines.astype(np.uint8),
                                                          connectivity=8)
        reach = np.maximum(stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT])
        best = max(best, float(stats[1:, cv2.CC_STAT_AREA][reach >= LONG * side].sum())
                   / lines.size)
    return best


def visible_colors(images: Sequence[np.ndarray], count: int) -> list[tuple[int, int, int]]:
    """``count`` colours, each its own: the vivid ones, those fewest of the images' pixels
    come near first, then the multiclass defaults."""
    pixels = [cv2.resize(as_rgb(im), (64, 64), interpolation=cv2.INTER_AREA).reshape(-1, 3)
              for im in images if im.dtype == np.uint8]
    if not pixels:
        return extended(list(VIVID[:count]), count)
    sample = np.concatenate(pixels).astype(np.float32)
    hidden = [float((np.linalg.norm(sample - np.float32(c), axis=1) < NEAR).mean())
              for c in VIVID]
    order = sorted(range(len(VIVID)), key=lambda i: (round(hidden[i], 2), i))
    return extended([VIVID[i] for i in order][:count], count)


def extended(chosen: list[tuple[int, int, int]], count: int) -> list[tuple[int, int, int]]:
    """``chosen`` plus, up to ``count``, the multiclass defaults farthest from every colour
    already chosen (the ninth class took the ninth default before: CamVid's Pedestrian came
    out 40 RGB apart from Tree's cyan)."""
    chosen = list(chosen)
    pool = [default_color(i) for i in range(len(VIVID), len(VIVID) + 15)]
    pool = [c for c in dict.fromkeys(pool) if c not in chosen]
    while len(chosen) < count:
        if not pool:  # more classes than distinct colours: the defaults repeat
            chosen.append(default_color(len(chosen)))
            continue
        far = max(pool, key=lambda c: min(_distance(c, o) for o in chosen) if chosen else 0)
        chosen.append(far)
        pool.remove(far)
    return chosen


def _distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(np.linalg.norm(np.subtract(a, b, dtype=float)))


def propose(images: Sequence[np.ndarray], classes: int) -> Proposal:
    """The scale and ``classes`` colours for images like these (a few samples of a folder)."""
    if not images:
        return Proposal("fit", "", tuple(visible_colors([], classes)))
    share = float(np.median([thin_structure_share(im) for im in images]))
    colors = tuple(visible_colors(images, classes))
    if share >= THIN_SHARE:
        return Proposal("native", f"The images show thin structures ({share:.0%} of the pixels "
                        "on long thin lines): proposed native pixels, so they survive.", colors)
    return Proposal("fit", "The images show objects rather than thin lines: proposed whole "
                    "images, resized.", colors)


def with_colors(scheme: LabelScheme, colors: Sequence[tuple[int, int, int]]) -> LabelScheme:
    """``scheme`` with its classes in ``colors`` (in class order)."""
    classes = tuple(replace(c, color=tuple(colors[i])) for i, c in enumerate(scheme.classes))
    return replace(scheme, classes=classes)


def sampled_keys(keys: Sequence[str], limit: int = SAMPLE_IMAGES) -> list[str]:
    """Up to ``limit`` of ``keys``, spread over them: the images a proposal looks at."""
    step = max(1, len(keys) // limit)
    return list(keys)[::step][:limit]


def read_sample(load: Callable[[str], np.ndarray], key: str) -> np.ndarray | None:
    """``load(key)``; None when it cannot be read (the file list reports it when opened)."""
    try:
        return np.asarray(load(key))
    except (FileError, OSError, ValueError):
        return None


def sample_images(load, keys: Sequence[str], limit: int = SAMPLE_IMAGES) -> list[np.ndarray]:
    """Up to ``limit`` images spread over ``keys``, read by ``load(key)``; unreadable ones are
    left out."""
    images = (read_sample(load, key) for key in sampled_keys(keys, limit))
    return [image for image in images if image is not None]


def folder_loader(workspace, rule=None) -> Callable[[str], np.ndarray]:
    """How a proposal reads an open folder's image (a ``Workspace``): as shown, or, given an
    input rule that chooses channels (an ``InputRule``), as that rule feeds it to a model (thin
    lines in the one channel a model is trained on count, not those of the channels it never
    sees)."""
    if rule is None or rule.channels is None:
        return workspace.load_image

    def load(key: str) -> np.ndarray:
        return rule.apply(workspace.load_raw(key), workspace[key].image_path)
    return load


def propose_for_folder(workspace, classes: int, rule=None) -> Proposal:
    """:func:`propose` from a few images spread over an open folder (:func:`folder_loader`)."""
    keys = [e.key for e in workspace.entries]
    return propose(sample_images(folder_loader(workspace, rule), keys), classes)
