"""Which label scheme an opened folder uses: the one given, else the task's, else the
manifest's, else trimap for the Oxford layout, else guessed by
:func:`unet_desktop.core.io.maskio.guess_scheme` from the values of up to ``MASKS_SAMPLED``
existing masks spread across the folder (so sparse 0/128/255 strokes after a dense 0/255 mask
read as sparse binary, and classes the first mask lacks are counted; a mask stack counts with up
to ``MASKS_SAMPLED`` of its labelled pages, spread likewise), else the default given (e.g. the
model's), else binary."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.layouts import FolderScan
from unet_desktop.core.folder.manifest import Manifest
from unet_desktop.core.labels import LabelScheme, binary_scheme, trimap_scheme

MASKS_SAMPLED = 16  # masks (and pages of a stack) read to guess a scheme: opening stays cheap
# the warning of a folder whose masks' values fit no scheme: its binary scheme is a fallback
GUESS_FAILED = "could not guess the label scheme, using binary: "
_T = TypeVar("_T")


def choose_scheme(given: LabelScheme | None, manifest: Manifest | None, scan: FolderScan,
                  warnings: list[str], default: LabelScheme | None = None,
                  task_scheme: LabelScheme | None = None) -> LabelScheme:
    """``given``, else the task's, else the manifest's, else the layout's or the masks', else
    ``default`` (e.g. the model's), else binary."""
    recorded = manifest.scheme if manifest is not None else None
    if given is None and task_scheme is not None:
        return task_scheme
    if given is not None:
        if recorded is not None and recorded != given:
            warnings.append(f"the label scheme given ({given.kind}, {given.num_classes} classes) "
                            f"replaces the manifest's ({recorded.kind}, "
                            f"{recorded.num_classes} classes)")
        return given
    if recorded is not None:
        return recorded
    if scan.layout == "oxford":
        return trimap_scheme()
    samples = _sampled_masks(scan)
    if not samples:
        return default or binary_scheme()
    try:
        return _guess_from_masks(samples)
    except (FileError, ValueError) as exc:
        warnings.append(f"{GUESS_FAILED}{exc}")
        return binary_scheme()


def failed_guess(warnings: Sequence[str]) -> str | None:
    """Why the masks' values fit no scheme, when the folder's binary scheme is only the fallback
    (:func:`choose_scheme` said so in its warnings); None when the scheme was not a failed guess."""
    return next((w[len(GUESS_FAILED):] for w in warnings if w.startswith(GUESS_FAILED)), None)


def _spread(items: Sequence[_T]) -> list[_T]:
    """Up to ``MASKS_SAMPLED`` of ``items``, evenly spread (first and last included)."""
    if len(items) <= MASKS_SAMPLED:
        return list(items)
    last = len(items) - 1
    return [items[round(i * last / (MASKS_SAMPLED - 1))] for i in range(MASKS_SAMPLED)]


def _sampled_masks(scan: FolderScan) -> list[tuple[Path, bool]]:
    """Up to ``MASKS_SAMPLED`` existing mask files, spread over the sorted pairs, each once
    (the pages of a stack share one file), and whether it is the mask stack of a stack."""
    stacks = {p.mask_path for p in scan.pairs if p.page is not None}
    paths = list(dict.fromkeys(p.mask_path for p in scan.pairs if p.mask_exists))
    return [(path, path in stacks) for path in _spread(paths)]


def _guess_from_masks(paths: list[tuple[Path, bool]]) -> LabelScheme:
    """The scheme of the values the readable masks hold together. Raises the first mask's
    error when none can be read, ``ValueError`` when their values fit no scheme."""
    from unet_desktop.core.io.maskio import guess_scheme

    values = _values_held(paths)
    if 255 in values and values - {0, 128, 255}:
        values = values - {255} | {1}  # a 0/1 mask among classes: reading made its 1s 255
    return guess_scheme(np.array(sorted(values), np.uint8))


def _values_held(paths: list[tuple[Path, bool]]) -> set[int]:
    """Every value found in the masks (and pages) that can be read (the others are reported
    when used)."""
    values: set[int] = set()
    first_error: Exception | None = None
    for path, is_stack in paths:
        for read in _mask_readers(path, is_stack):
            try:
                values |= {int(v) for v in np.unique(read())}
            except (FileError, ValueError) as exc:
                first_error = first_error or exc
    if not values and first_error is not None:
        raise first_error
    return values


def _mask_readers(path: Path, is_stack: bool) -> list[Callable[[], np.ndarray]]:
    """Readers of the mask file ``path``: one for a single mask, one per sampled labelled page
    of a mask stack (reading a stack as one image would see its first page only)."""
    from unet_desktop.core.io.maskio import read_mask
    from unet_desktop.core.io.stacks import is_tiff_name, read_mask_page, read_mask_stack_header

    if is_stack and is_tiff_name(path):
        try:
            header = read_mask_stack_header(path)
        except FileError:
            header = None
        if header is not None and header.pages > 1:
            labelled = [i for i in range(header.pages) if header.labelled(i)]
            return [lambda i=i: read_mask_page(path, i) for i in _spread(labelled)]
    return [lambda: read_mask(path)]
