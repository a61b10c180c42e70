"""Undo history kept across restarts: each image's newest steps, stored when the image is left
or the app quits with its mask saved, restored when the image opens again with the same mask.

Files live in the user's data folder (``history/<folder id>/<image id>.npz``, written
atomically), not in the images' folder, so read-only folders keep theirs too. Bounded: per image
the newest ``max_steps`` steps within ``max_bytes``, and in all ``max_total_bytes`` (the least
recently written files go first). A history whose mask changed on disk meanwhile no longer fits
and is deleted; an unreadable file is deleted with a warning in the log.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path

import numpy as np

from unet_desktop.core.editing.history import (
    AcceptedPrediction,
    EditHistory,
    Step,
    mask_fingerprint,
)
from unet_desktop.core.io.atomic import atomic_write_bytes
from unet_desktop.core.io.paths import folder_identity, user_data_dir

log = logging.getLogger(__name__)

ARCHIVE_STEPS = 100
ARCHIVE_BYTES = 16 * 2**20  # per image
ARCHIVE_TOTAL_BYTES = 256 * 2**20
_FORMAT = 2  # 2: steps compressed (Step); 1: as they are, read still


def default_archive_dir() -> Path:
    return user_data_dir() / "history"


def _digest(text: str) -> str:
    # surrogateescape: a file name that is not UTF-8 (os.fsdecode) digests as its bytes
    return hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


class HistoryArchive:
    """Stores and restores :class:`EditHistory` steps per (folder, image key)."""

    def __init__(self, directory: str | os.PathLike | None = None,
                 max_steps: int = ARCHIVE_STEPS, max_bytes: int = ARCHIVE_BYTES,
                 max_total_bytes: int = ARCHIVE_TOTAL_BYTES) -> None:
        self.directory = Path(directory) if directory is not None else default_archive_dir()
        self.max_steps, self.max_bytes = max_steps, max_bytes
        self.max_total_bytes = max_total_bytes

    def path(self, root: str | os.PathLike, key: str) -> Path:
        return self.directory / _digest(str(folder_identity(root))) / f"{_digest(key)}.npz"

    # --- storing ------------------------------------------------------------------------------
    def store(self, root: str | os.PathLike, key: str, history: EditHistory,
              mask: np.ndarray) -> bool:
        """Keep ``history`` of the image whose saved mask is ``mask``; False if not written."""
        undo, redo = history.export()
        path = self.path(root, key)
        if not undo and not redo:
            path.unlink(missing_ok=True)
            return False
        undo, redo = self._bounded(undo, redo)
        places = _kept_places(history, undo, redo)
        accepted = [[places.index(sid), acc.model_version, acc.uncertainty, acc.automatic]
                    for sid, acc in history.accepted_predictions().items() if sid in places]
        no_mask = places.index(history.no_mask_state) if history.no_mask_state in places else None
        arrays: dict[str, np.ndarray] = {}
        steps = []
        for i, step in enumerate([*undo, *redo]):
            arrays[f"changed{i}"], arrays[f"old{i}"] = step.changed, step.old_values
            arrays[f"new{i}"] = step.new_values
            steps.append({"bbox": list(step.bbox), "label": step.label})
        header = {"format": _FORMAT, "key": key, "fingerprint": mask_fingerprint(mask),
                  "undo": len(undo), "steps": steps, "accepted": accepted,
                  "no_mask": no_mask}
        arrays["header"] = np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8)
        buffer = io.BytesIO()
        np.savez_compressed(buffer, **arrays)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, buffer.getvalue())
        except OSError as exc:
            log.warning("%s: cannot keep the undo history of %s (%s)", path, key, exc)
            return False
        self._prune()
        return True

    def _bounded(self, undo: list[Step], redo: list[Step]) -> tuple[list[Step], list[Step]]:
        undo = undo[-self.max_steps:]
        redo = redo[-max(0, self.max_steps - len(undo)):] if len(undo) < self.max_steps else []
        while len(undo) > 1 and sum(s.nbytes for s in (*undo, *redo)) > self.max_bytes:
            if redo:
                redo = redo[1:]  # the farthest redo step first
            else:
                undo = undo[1:]
        return undo, redo

    def _prune(self) -> None:
        files = sorted(self.directory.glob("*/*.npz"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        for path in files[:-1]:
            if total <= self.max_total_bytes:
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

    # --- restoring ----------------------------------------------------------------------------
    def restore(self, root: str | os.PathLike, key: str, mask: np.ndarray,
                history: EditHistory) -> bool:
        """Fill ``history`` with the stored steps if they were stored for this very ``mask``."""
        path = self.path(root, key)
        if not path.is_file():
            return False
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(data["header"].tobytes().decode("utf-8"))
                if header.get("key") != key or header.get("format") not in (1, _FORMAT):
                    raise ValueError("it belongs to another image or version")
                if header["fingerprint"] != mask_fingerprint(mask):
                    path.unlink(missing_ok=True)  # the mask changed: the steps no longer fit
                    return False
                make = Step if header["format"] == _FORMAT else _uncompressed_step
                steps = [make(tuple(s["bbox"]), data[f"changed{i}"], data[f"old{i}"],
                              data[f"new{i}"], s["label"], 0)
                         for i, s in enumerate(header["steps"])]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("%s: unreadable undo history of %s, deleted (%s)", path, key, exc)
            path.unlink(missing_ok=True)
            return False
        undo = header["undo"]
        accepted = {int(place): AcceptedPrediction(version, uncertainty, bool(automatic))
                    for place, version, uncertainty, automatic in header.get("accepted", [])}
        history.restore(steps[:undo], steps[undo:], accepted, header.get("no_mask"))
        history.remember(mask)
        return True


def _kept_places(history: EditHistory, undo: list[Step], redo: list[Step]) -> list[int]:
    """The state ids of ``history`` that the kept steps ``undo`` and ``redo`` reach, by place
    (0: the state before ``undo``), as :meth:`EditHistory.restore` numbers them."""
    ids = history.state_ids()
    all_undo = history.export()[0]
    dropped = len(all_undo) - len(undo)
    base = all_undo[dropped - 1].serial if dropped else ids[0]
    return [base, *(s.serial for s in undo), *(s.serial for s in reversed(redo))]


def _uncompressed_step(bbox, changed, old_values, new_values, label, serial) -> Step:
    return Step.uncompressed(bbox, changed, old_values, new_values, label)
