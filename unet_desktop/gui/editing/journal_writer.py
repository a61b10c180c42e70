"""The autosave's writes to the recovery journal, on a thread of their own.

Encoding a mask as PNG and writing it safely (fsync, rename) took 60-90 ms for a 512 px slice
on a busy disk and 0.13-0.16 s for a 24-megapixel image (0.7 s once under load), on the UI
thread, 1.5 s after every pause in painting (``bench/autosave_stall.py``). Here the UI thread only copies the mask; one worker
writes the copies in the order they were handed over. Whoever touches the journal on the UI
thread first waits for the write in flight (:meth:`JournalWriter.wait_idle`), so a save's
"discard the autosave" can never be overtaken by an older autosave.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal

from unet_desktop.core.editing.history import AcceptedPrediction
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.autosave import RecoveryJournal
from unet_desktop.core.labels import LabelScheme

log = logging.getLogger(__name__)


class JournalWriter(QObject):
    """Writes masks into ``journal`` one at a time, off the UI thread."""

    # Python objects: a Qt string drops the bytes of a file name not UTF-8
    written = Signal(object)  # image key, on the UI thread
    failed = Signal(object)  # the reason, on the UI thread
    _done = Signal(object, object)  # (key, error) from the worker; relayed queued to the UI thread

    def __init__(self, journal: RecoveryJournal, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.journal = journal
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._last: Future | None = None  # one worker: when it is done, all earlier ones are
        self._closed = False
        self._done.connect(self._report, Qt.ConnectionType.QueuedConnection)

    def submit(self, workspace: str | os.PathLike, key: str, mask: np.ndarray,
               scheme: LabelScheme, no_mask: bool = False,
               accepted: AcceptedPrediction | None = None) -> None:
        """Autosave ``mask`` (the caller's copy: this thread never changes it again);
        ``no_mask``: the edits are undone back to no mask file (``RecoveryEntry.no_mask``);
        ``accepted``: the mask is that prediction, accepted and not edited."""
        if self._closed:  # after shutdown (a closed window still edited): written here
            self._write(workspace, key, mask, scheme, no_mask, accepted)
            return
        self._last = self._worker.submit(self._write, workspace, key, mask, scheme, no_mask,
                                         accepted)

    def wait_idle(self) -> None:
        """Return once every write handed over so far is on disk (or has failed)."""
        if self._last is not None:
            self._last.exception()  # waits; failures were reported by _write
            self._last = None

    def shutdown(self) -> None:
        self._closed = True
        self.wait_idle()
        self._worker.shutdown(wait=True)

    # --- worker thread ---------------------------------------------------------------------------
    def _write(self, workspace, key: str, mask: np.ndarray, scheme: LabelScheme,
               no_mask: bool, accepted: AcceptedPrediction | None) -> None:
        error = ""
        try:
            if self.journal.holds(workspace, key, mask, no_mask, accepted):
                return  # already there
            self.journal.save(workspace, key, mask, scheme, no_mask, accepted)
        except (FileError, OSError) as exc:
            error = str(exc) or type(exc).__name__
        except Exception as exc:  # a bug: in the log with its traceback, and said
            log.exception("autosave of %s failed", key)
            error = f"{type(exc).__name__}: {exc}"
        try:
            self._done.emit(key, error)
        except RuntimeError:  # the window is gone: nobody to tell
            pass

    def _report(self, key: str, error: str) -> None:
        if error:
            self.failed.emit(f"Autosave failed: {error}")
        else:
            self.written.emit(key)
