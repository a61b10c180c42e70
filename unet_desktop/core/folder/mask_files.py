"""An entry's mask file: reading it, writing it where it is allowed to go, and telling whether
someone else replaced it.

Masks are only ever written as PNG files directly inside the workspace's mask folder (a slice's
mask is a page of its stack's mask TIFF there); the target is checked after resolving symbolic
links. :class:`SeenMasks` remembers each mask file's identity when the workspace last read or
wrote it, so that a mask replaced by another window or program is never overwritten unseen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from pathlib import Path

import numpy as np

from unet_desktop.core.errors import MaskError
from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.journal import file_identity
from unet_desktop.core.labels import LabelScheme


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_target(root: Path, mask_dir: Path, target: Path) -> None:
    """Refuse any write that would land outside the mask folder, links resolved."""
    if target.parent != mask_dir:
        raise MaskError(target, f"not directly inside the mask folder {mask_dir}")
    real_root = Path(os.path.realpath(root))
    real_dir = Path(os.path.realpath(mask_dir))
    if not _is_within(real_dir, real_root):
        raise MaskError(target, f"the mask folder resolves to {real_dir}, outside the "
                                f"workspace {real_root}")
    real = Path(os.path.realpath(target))
    if real.parent != real_dir:
        raise MaskError(target, f"resolves to {real}, outside the mask folder {real_dir} "
                                "(a symbolic link?)")


def read_entry_mask(entry: ImageEntry, scheme: LabelScheme) -> np.ndarray:
    """The stored mask values of ``entry`` (its page of the stack for a slice); raises
    :class:`MaskError` when they do not fit ``scheme``."""
    if entry.page is not None:
        from unet_desktop.core.io.stacks import read_mask_page

        return read_mask_page(entry.mask_path, entry.page, scheme)
    from unet_desktop.core.io.maskio import read_mask

    return read_mask(entry.mask_path, scheme)


def write_entry_mask(entry: ImageEntry, target: Path, mask: np.ndarray, scheme: LabelScheme,
                     labelled_pages: Collection[int]) -> None:
    """Write ``mask`` as ``entry``'s mask at ``target``; raises ``OSError``. A slice rewrites its
    mask stack with this page; the other pages keep what is stored for ``labelled_pages`` (an
    invalid page is kept as unlabeled rather than lost: it was moved aside whole)."""
    if entry.page is not None:
        from unet_desktop.core.io.stacks import write_mask_page

        write_mask_page(entry.mask_path, entry.page, entry.pages, mask, scheme,
                        labelled=labelled_pages)
    else:
        from unet_desktop.core.io.maskio import write_mask

        write_mask(target, mask, scheme)


class SeenMasks:
    """Each mask file's identity when this workspace last read or wrote it (a file, not a key:
    the slices of a stack share one mask file), and when the folder was opened."""

    def __init__(self) -> None:
        self._opened_ns = time.time_ns()
        self._seen: dict[str, object] = {}

    def note(self, path: Path, identity: object) -> None:
        """``path`` had ``identity`` (:func:`file_identity`) when this workspace read or wrote it."""
        self._seen[os.fspath(path)] = identity

    def changed(self, path: Path) -> bool:
        """Whether ``path`` was replaced since it was noted (never noted: since the opening)."""
        identity = file_identity(path)
        if identity is None:
            return False
        seen = self._seen.get(os.fspath(path))
        if seen is not None:
            return identity != seen
        return identity[1] > self._opened_ns
