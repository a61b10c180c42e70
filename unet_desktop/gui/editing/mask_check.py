"""Checks the mask files of a folder just opened, on the worker, one file per step.

Opening a folder reads names only; which mask files cannot be used in the folder's scheme (values
outside it, another size than the image's) is found here, off the UI thread and between the
user's predictions (:meth:`Workspace.check_masks_stepwise`). The workspace records each one in
``invalid`` (its one owner); ``invalid_found(key)`` tells the file list to show that row again,
and ``checked`` reports them all once, by file and reason.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from unet_desktop.gui.worker import Job, Priority, Worker


class MaskCheck(QObject):
    """Starts one check per opened folder; a new folder supersedes the check of the old one."""

    invalid_found = Signal(object)  # image key (an object: a Qt string drops non-UTF-8 bytes)
    checked = Signal(dict)  # key -> "<file>: <reason>" of every invalid mask, once at the end

    def __init__(self, worker: Worker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self._job: Job | None = None
        self._found: dict[str, str] = {}

    def start(self, workspace: Any) -> None:
        """Check every mask file of ``workspace`` (cancelling the check of the previous one)."""
        self.stop()
        found: dict[str, str] = {}
        self._found = found
        steps = workspace.check_masks_stepwise

        def check(token):  # on the worker thread, one mask file per step
            for invalid in steps():
                token.raise_if_cancelled()
                yield invalid

        self._job = self.worker.submit(
            check, Priority.BACKGROUND, group="check masks", name="check masks",
            on_progress=lambda invalid: self._on_progress(found, invalid),
            on_finished=lambda job: self._on_finished(found, job))

    def stop(self) -> None:
        if self._job is not None and not self._job.finished:
            self._job.cancel()
        self._job = None

    def _on_progress(self, found: dict[str, str], invalid: dict[str, str]) -> None:
        if found is not self._found:
            return  # the check of a folder no longer open
        found.update(invalid)
        for key in invalid:
            self.invalid_found.emit(key)

    def _on_finished(self, found: dict[str, str], job: Job) -> None:
        if found is self._found and not job.token.cancelled:
            self._job = None
            self.checked.emit(dict(found))
