"""Which images a model learnt from, by content, down its lineage.

A model's ``data_summary["learnt_images"]`` lists content ids of every image it or one of its
ancestors trained on (its parent's list and its own training images): the same picture has the
same id in any folder and under any name, and another picture of the same name has another id.
An image has up to two ids: the hash of the pixels the model was given (what a learning-loop
round, which trains from samples in memory, knows; it changes with the training size when the
image is shrunk for it) and, for an image of a folder, the hash of its file's bytes and slice
(the same at any training size). A run compares its held-out images' ids with its parent's list
to tell whether the parent's figures on them are a fair comparison (``ml.training.train``).

Files saved before the list existed record their masks' sha1 only: for such a parent, its own
training masks are compared by content (its ancestors' images are unknown).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.file_hash import file_sha1
from unet_desktop.ml.training.dataset import Sample, SampleSet

LEARNT_IMAGES = "learnt_images"  # the data summary's key
ID_LENGTH = 16  # hex digits of an id: 64 bits, no two images of a lineage alike


def image_ids(data: Workspace | SampleSet, samples: Iterable[Sample]) -> dict[str, set[str]]:
    """Sample key -> its image's content ids (its pixels'; its file's, in a folder)."""
    file_digests: dict[Path, str] = {}  # a stack's file is read once for all its slices
    ids = {}
    for sample in samples:
        ids[sample.key] = {_pixels_digest(sample)}
        if isinstance(data, Workspace):
            entry = data[sample.key]
            file_id = folder_image_id(entry.image_path, entry.page, file_digests)
            if file_id is not None:
                ids[sample.key].add(file_id)
    return ids


def folder_image_id(path: Path, page: int | None, cache: dict[Path, str]) -> str | None:
    """The content id of an image of a folder: its file's bytes and its slice (``page``);
    None when the file cannot be read. ``cache``: file digests, a stack's file read once."""
    digest = _file_digest(path, cache)
    return None if digest is None else _short(f"{digest}:{page}".encode())


def learnt_images(parent_summary: dict | None, trained_on: Iterable[set[str]]) -> list[str]:
    """The ids a new model's summary lists: its parent's and those of the images it trained on."""
    inherited = (parent_summary or {}).get(LEARNT_IMAGES)
    learnt = set(inherited if isinstance(inherited, list) else [])
    return sorted(learnt.union(*trained_on))


def parent_learnt_any(parent_summary: dict | None, held_out: list[Sample],
                      ids: dict[str, str]) -> bool:
    """Whether the parent (or, where it records them, an ancestor) trained on any of the
    ``held_out`` images."""
    summary = parent_summary or {}
    learnt = summary.get(LEARNT_IMAGES)
    if isinstance(learnt, list):
        return any(ids[s.key] & set(learnt) for s in held_out)
    # saved before the list: its own training masks, by content (not by name)
    val_keys = set(summary.get("val_keys") or [])
    masks = summary.get("mask_sha1") if isinstance(summary.get("mask_sha1"), dict) else {}
    trained = {sha1 for key, sha1 in masks.items() if key not in val_keys}
    return bool(trained & {s.mask_sha1 for s in held_out if s.mask_sha1})


def _file_digest(path: Path, cache: dict[Path, str]) -> str | None:
    if path not in cache:
        digest = file_sha1(path)
        if digest is None:  # gone since it was loaded: its pixels identify it alone
            return None
        cache[path] = digest
    return cache[path]


def _pixels_digest(sample: Sample) -> str:
    image = sample.image.contiguous()
    return _short(str(tuple(image.shape)).encode() + image.numpy().tobytes())


def _short(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()[:ID_LENGTH]
