"""Which of a folder's images a model trained on, from what its file records.

A score on images the model trained on measures how well it learnt them, not how well it
labels new ones: ``unet-desktop evaluate`` says which of the images it scores these are.
A model file records its training images two ways (``ml.training.train``'s data summary):

- by content, ``learnt_images``: ids of every image it or a model it was fine-tuned from
  trained on (``ml.training.learnt_images``); an image of a folder has the id of its file's
  bytes and slice, the same under any name and in any folder;
- by name, ``train_keys`` (the images of this run, as keys of the folder it trained in);
  files saved before that list record ``mask_sha1`` for every image and ``val_keys`` for the
  held-out ones, so the others are those it trained on.

A learning-loop round trains from images in memory and records their pixels' ids, which depend
on its training size: its images are found by name alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from unet_desktop.ml.training.learnt_images import LEARNT_IMAGES, folder_image_id


@dataclass(frozen=True)
class TrainedOn:
    """Of the images asked about: those the model trained on, by content and by name alone;
    ``recorded`` False when the model file records neither (nothing can be said)."""

    recorded: bool
    by_content: tuple[str, ...] = ()
    by_name: tuple[str, ...] = ()  # its record names them; their content is not recorded

    @property
    def keys(self) -> tuple[str, ...]:
        return self.by_content + self.by_name


def trained_on(summary: dict, entries: Iterable) -> TrainedOn:
    """Which of ``entries`` (workspace entries: ``key``, ``image_path``, ``page``) the model
    whose data summary is ``summary`` trained on."""
    learnt = summary.get(LEARNT_IMAGES)
    learnt = set(learnt) if isinstance(learnt, list) else None
    names = _training_names(summary)
    if learnt is None and names is None:
        return TrainedOn(recorded=False)
    by_content, by_name = [], []
    digests: dict[Path, str] = {}  # a stack's file is read once for all its slices
    for entry in entries:
        if learnt and folder_image_id(entry.image_path, entry.page, digests) in learnt:
            by_content.append(entry.key)
        elif names and entry.key in names:
            by_name.append(entry.key)
    return TrainedOn(True, tuple(by_content), tuple(by_name))


def _training_names(summary: dict) -> set[str] | None:
    """The keys of the images this model trained on (not its ancestors'); None if unrecorded."""
    keys = summary.get("train_keys")
    if isinstance(keys, list):
        return {str(k) for k in keys}
    masks = summary.get("mask_sha1")
    if not isinstance(masks, dict):
        return None
    held_out = summary.get("val_keys")
    return set(masks) - set(held_out if isinstance(held_out, list) else [])
