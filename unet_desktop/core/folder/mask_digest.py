"""The digest of an image's mask as stored now, by the rule a training run records the mask it
read with (``ml.training.dataset.load_workspace_sample``): the SHA-1 of the mask file's bytes, or
of a slice's values (a page of a mask stack: its own values, not the whole file's). Comparing
it with a model's recorded ``mask_sha1`` tells whether the mask changed since the run read it."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from unet_desktop.core.io.file_hash import file_sha1


def stored_mask_digest(ws: Any, key: str) -> str | None:
    """The digest of ``key``'s mask in workspace ``ws``; None when its file cannot be read or
    the slice has no mask (a slice's unreadable stack raises ``FileError``)."""
    entry = ws[key]
    if not entry.is_slice:
        return file_sha1(entry.mask_path)
    mask = ws.load_mask(key)
    return None if mask is None else slice_digest(mask)


def slice_digest(mask: np.ndarray) -> str:
    """The digest of a slice's mask (a page of a mask stack): of its own values."""
    return hashlib.sha1(np.ascontiguousarray(mask)).hexdigest()
