"""Invalid masks: the registry of mask files whose values or size do not fit the scheme, finding
them, and keeping such a file aside before it is replaced.

A mask file is recorded as invalid (key -> reason) when it is read; such an image is not
labelled (training skips it) until a mask is saved for it in this scheme; that save first moves
the invalid file to ``.unet-desktop/replaced/`` (nothing the user made is lost).

Invalid masks are recorded from worker threads (batch predict, training, the loop) while the
UI thread lists them: the registry is a :class:`LockedDict` (changes under a lock; iterating it
walks a snapshot).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.image_files import image_size
from unet_desktop.core.io.paths import first_free_path


class LockedDict(dict):
    """A dict changed under a lock, iterated over a snapshot (one writer thread may add while
    another lists)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __setitem__(self, key, value) -> None:
        with self._lock:
            super().__setitem__(key, value)

    def __delitem__(self, key) -> None:
        with self._lock:
            super().__delitem__(key)

    def pop(self, key, *default):
        with self._lock:
            return super().pop(key, *default)

    def __iter__(self):
        with self._lock:
            return iter(list(super().keys()))

    def items(self):
        with self._lock:
            return list(super().items())

    def keys(self):
        with self._lock:
            return list(super().keys())

    def values(self):
        with self._lock:
            return list(super().values())


def check_stepwise(entries: Iterable[ImageEntry], load_mask: Callable[[str], np.ndarray | None],
                   invalid: dict[str, str]) -> Iterator[dict[str, str]]:
    """Read the mask file of each of ``entries`` that has one with ``load_mask`` (which records
    a mask whose values do not fit), record in ``invalid`` one of another size than its image,
    and yield after each what was found invalid (``{}`` or ``{key: reason}``). Images are not
    decoded, only their headers."""
    for entry in entries:
        if not entry.has_mask or not entry.mask_path.is_file():
            continue
        try:
            mask = load_mask(entry.key)
        except MaskError as exc:
            yield {entry.key: str(exc)}
            continue
        try:
            width, height = image_size(entry)
        except FileError:
            yield {}  # an unreadable image is reported by whoever reads it
            continue
        if mask is not None and mask.shape != (height, width):
            reason = size_mismatch(entry, mask.shape, (height, width))
            invalid[entry.key] = reason
            yield {entry.key: reason}
        else:
            yield {}


def size_mismatch(entry: ImageEntry, mask_shape: tuple[int, ...],
                  image_shape: tuple[int, ...]) -> str:
    """Why ``entry``'s mask file, of another size than its image, is invalid."""
    return (f"{entry.mask_path}: mask is {mask_shape[1]}x{mask_shape[0]} but its image is "
            f"{image_shape[1]}x{image_shape[0]}")


def _short_stem(stem: str, limit: int = 200) -> str:
    """``stem`` if it takes at most ``limit`` bytes, else its start and a hash of the whole:
    a kept copy's name (stem, time stamp, a free-name number) stays within 255 bytes."""
    if len(os.fsencode(stem)) <= limit:
        return stem
    digest = hashlib.sha1(os.fsencode(stem)).hexdigest()[:8]
    start = os.fsencode(stem)[: limit - len(digest) - 1].decode(errors="ignore")
    return f"{start}~{digest}"


def keep_aside(sidecar: Path, target: Path, copy: bool = False) -> Path:
    """Move an invalid mask file about to be replaced to ``<sidecar>/replaced/`` (the user's
    file is never lost; ``copy`` leaves it in place too); raises :class:`MaskError` if it cannot
    be moved."""
    folder = sidecar / "replaced"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    kept = first_free_path(folder, f"{_short_stem(target.stem)}-{stamp}", target.suffix)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if copy:
            shutil.copy2(target, kept)
        else:
            os.replace(target, kept)
    except OSError as exc:
        raise MaskError(target, f"cannot keep the invalid mask aside in {folder} "
                                f"({exc.strerror or exc}); nothing was written") from exc
    return kept
