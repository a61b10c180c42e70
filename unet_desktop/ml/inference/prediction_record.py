"""Folder mode's record ``unet-desktop-predictions.json``: which model version wrote which mask in
an output folder, so that a second run resumes and a user's own masks are told apart.

Written atomically. Before a mask is written, its entry is appended to a journal beside the
record (:mod:`unet_desktop.core.folder.journal`, with the identity of the file it replaces), so a
process killed between two saves of the record still knows every mask it wrote; an entry whose
mask was not replaced after all is ignored. Loading replays the journals; a save folds its own
journal into the record. Under torchrun each rank keeps its own record file and reads them all.
(A workspace keeps the same facts in its manifest, ``core.folder.workspace``, with the images'
states; an output folder has no manifest, hence this record.)

A mask stack's entry also lists the version that wrote each page (``page_versions``, None for
an unlabeled page): a run resumed by another model version keeps the pages the earlier one
wrote, and its ``model_version`` is then ``mixed``. It lists each page's uncertainty too
(``page_uncertainty``, None where unknown), and its ``uncertainty`` is their mean over every page
predicted, whichever run predicted it: a resumed run keeps the earlier run's page figures (an
entry from before them gives its kept pages the stack's figure it recorded).

Each entry also holds the sha1 of the mask as written, so that a mask changed since (a user's
correction in another program) is told apart from one unet-desktop wrote: :meth:`changed`.
Entries from before that, or replayed from a journal (a killed run), have none and are trusted.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.journal import Journal, file_identity, was_replaced
from unet_desktop.core.io.atomic import atomic_write_bytes
from unet_desktop.core.io.file_hash import file_sha1

log = logging.getLogger(__name__)
RECORD_NAME = "unet-desktop-predictions"
_RECORD_EVERY = 32  # writes between record saves
MIXED = "mixed"  # the version of a mask stack whose pages different model versions wrote


class PredictionRecord:
    """The record of one output folder (this rank's file, every rank's entries for resuming)."""

    def __init__(self, out_dir: Path, rank: int, world_size: int):
        name = RECORD_NAME if world_size == 1 else f"{RECORD_NAME}.rank{rank}"
        self.out_dir = out_dir
        self.path = out_dir / f"{name}.json"
        self.journal = Journal(out_dir / f"{name}.journal")
        self.items: dict[str, dict] = {}
        self.known: dict[str, dict] = {}  # every rank's records, for resuming
        self.unreadable: list[Path] = []  # records that could not be read (said in skip reasons)
        self._digests: dict[str, str | None] = {}  # mask name -> sha1 of the file now
        for path in sorted(out_dir.glob(f"{RECORD_NAME}*.json")):
            try:
                items = json.loads(path.read_text("utf-8")).get("items", {})
            except (OSError, ValueError, AttributeError) as exc:
                log.warning("%s: unreadable, the masks it lists count as not written by "
                            "unet-desktop (%s)", path, exc)
                self.unreadable.append(path)
                continue
            if isinstance(items, dict):
                self.known.update(items)
                if path == self.path:
                    self.items.update(items)
        self.unsaved = 0
        for path in sorted(out_dir.glob(f"{RECORD_NAME}*.journal")):
            replayed = self._replay(Journal(path))
            self.known.update(replayed)
            if path == self.journal.path:
                self.items.update(replayed)
                self.unsaved += len(replayed)  # folded into the record by the next save

    def _replay(self, journal: Journal) -> dict[str, dict]:
        """The journal's entries whose mask file was really replaced (later ones win)."""
        entries: dict[str, dict] = {}
        for line in journal.read():
            name, before = line.pop("name", None), line.pop("before", None)
            if isinstance(name, str) and was_replaced(self.out_dir / name, before):
                entries[name] = line
        return entries

    def version_of(self, name: str) -> str | None:
        entry = self.known.get(name)
        return entry.get("model_version") if isinstance(entry, dict) else None

    def page_version(self, name: str, page: int) -> str | None:
        """The version that wrote page ``page`` of the mask stack ``name``: its entry's
        ``page_versions`` (records from before them: the stack's version)."""
        entry = self.known.get(name)
        if not isinstance(entry, dict):
            return None
        pages = entry.get("page_versions")
        if isinstance(pages, list) and 0 <= page < len(pages):
            return pages[page] if isinstance(pages[page], str) else None
        return entry.get("model_version")

    def page_score(self, name: str, page: int) -> float | None:
        """The uncertainty of page ``page`` of the mask stack ``name`` as recorded: its entry's
        ``page_uncertainty`` (records from before them: the stack's figure, the mean of the
        pages that run predicted); None when unknown."""
        entry = self.known.get(name)
        if not isinstance(entry, dict):
            return None
        scores = entry.get("page_uncertainty")
        if isinstance(scores, list):
            value = scores[page] if 0 <= page < len(scores) else None
        else:
            value = entry.get("uncertainty")
        return float(value) if isinstance(value, (int, float)) else None

    def changed(self, name: str) -> bool:
        """Whether the mask ``name`` differs from what unet-desktop wrote (False when the record
        has no digest of it, or the file cannot be read: then it is as the record says)."""
        entry = self.known.get(name)
        written = entry.get("sha1") if isinstance(entry, dict) else None
        if not isinstance(written, str):
            return False
        if name not in self._digests:
            self._digests[name] = file_sha1(self.out_dir / name)
        return self._digests[name] not in (None, written)

    def entry(self, target: Path, image: Path, version: str, score: float,
              page_versions: list[str | None] | None = None,
              page_scores: list[float | None] | None = None) -> dict:
        """The entry of the mask ``target`` about to be written, already in the journal; a
        stack's ``page_versions`` (page by page, None: unlabeled) make its version ``mixed``
        when its pages are more than one version's; ``page_scores``: each page's uncertainty
        (None: unknown), whose mean ``score`` is."""
        if page_versions is not None:
            written = {v for v in page_versions if v is not None}
            version = written.pop() if len(written) == 1 else MIXED if written else version
        entry = {"image": image.name, "model_version": version, "uncertainty": round(score, 6)}
        if page_versions is not None:
            entry["page_versions"] = list(page_versions)
        if page_scores is not None:
            entry["page_uncertainty"] = [None if s is None else round(s, 6) for s in page_scores]
        try:
            self.journal.append({"name": target.name, "before": file_identity(target), **entry})
        except OSError as exc:  # the entry still goes into the record at the next save
            log.warning("%s: cannot append to the journal (%s); if this run is killed before "
                        "the record is saved, %s will count as not written by unet-desktop",
                        self.journal.path, exc, target.name)
        return entry

    def add(self, name: str, entry: dict) -> None:
        """The mask ``name`` was written (its digest is taken now)."""
        digest = file_sha1(self.out_dir / name)
        if digest is not None:
            entry = {**entry, "sha1": digest}
        self._digests[name] = digest
        self.items[name] = self.known[name] = entry
        self.unsaved += 1
        if self.unsaved >= _RECORD_EVERY:
            try:
                self.save()
            except FileError as exc:  # the mask is written; the next save (at the end) retries
                log.warning("%s", exc)

    def save(self) -> None:
        """Write the record (its journal's entries folded in); ``FileError`` naming the record
        file when it cannot be written (the journal keeps the entries for the next run)."""
        if self.unsaved:
            data = json.dumps({"items": self.items}, indent=1, sort_keys=True).encode()
            try:
                atomic_write_bytes(self.path, data)
            except OSError as exc:
                raise FileError(self.path, f"cannot save the record of the masks this run wrote "
                                f"({exc.strerror or exc}); the masks are written and its journal "
                                f"{self.journal.path.name} lists them for the next run") from exc
            self.journal.clear()
            self.unsaved = 0

