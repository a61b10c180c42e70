"""The manifest writes of an open workspace: the journal each mask save records itself in
first, deferring the manifest over a batch of saves, and folding the journal into every
manifest write.

Durability: a mask save appends its record to ``.unet-desktop/manifest.journal``
(:mod:`unet_desktop.core.folder.journal`) before it replaces the mask file, and every manifest
write folds the journal in and deletes it. A process killed after a mask was replaced but before
the manifest was written (a batch run defers the manifest to once per batch) thus leaves the
record in the journal, which the next opening replays (:mod:`.folder_states`). Without it such a
mask would read as ``corrected``: a prediction taken for a person's mask, and used as training
data. For the same reason the records of images that were away when the folder opened
(``absent``) are written on with every manifest, under those of the images present.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from unet_desktop.core.errors import MaskError
from unet_desktop.core.folder.journal import Journal
from unet_desktop.core.folder.manifest import (
    JournalLine,
    Manifest,
    ManifestRecord,
    journal_path,
    manifest_path,
    save_manifest,
)


class ManifestWriter:
    """Writes one folder's manifest; ``lock`` is the workspace's write lock."""

    def __init__(self, root: Path, folded_journal: str | None, lock: threading.RLock) -> None:
        self.path = manifest_path(root)
        self.journal = Journal(journal_path(root))
        self.folded_journal = folded_journal  # id of the last journal folded into the manifest
        self._lock = lock
        self._defer_depth = 0
        self._pending_write = False
        self.absent: dict[str, ManifestRecord] = {}  # records of images away, written on

    def record(self, line: JournalLine, target: Path) -> None:
        """Journal a save before its mask file ``target`` is written; raises :class:`MaskError`
        (then the mask must not be written)."""
        try:
            self.journal.append(line.to_dict())
        except OSError as exc:
            raise MaskError(target, f"cannot record the save in {self.journal.path} "
                                    f"({exc.strerror or exc}); the mask was not written"
                            ) from exc

    def write(self, manifest: Manifest) -> None:
        """Write ``manifest`` atomically with the journal folded into it, then delete the
        journal; raises ``FileError``. The caller holds the lock."""
        manifest.folded_journal = self.journal.id or self.folded_journal
        manifest.records = {**self.absent, **manifest.records}
        save_manifest(self.path, manifest)
        self.folded_journal = manifest.folded_journal
        try:
            self.journal.clear()
        except OSError:
            pass  # the manifest names it as folded: it is not replayed again

    def due(self, defer: bool) -> bool:
        """Whether a change is to be written now; else (``defer`` inside :meth:`deferred`) it is
        written at the end of the deferral."""
        if defer and self._defer_depth:
            self._pending_write = True
            return False
        return True

    @contextlib.contextmanager
    def deferred(self, save: Callable[[], None]) -> Iterator[None]:
        """Call ``save`` once at the end of a block of many saves if one of them was deferred;
        the journal keeps each save durable meanwhile."""
        with self._lock:
            self._defer_depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._defer_depth -= 1
                if not self._defer_depth and self._pending_write:
                    self._pending_write = False
                    save()
