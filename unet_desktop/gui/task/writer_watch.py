"""Notices when the window that writes the open folder changes, so that what this read-only
window says about that writer stays true (the banner named a process that had ended, or said a
writer had let go while it, or a third window, held the folder again).

While the open folder is read-only because another live window held it when it opened, the
folder's lock is read every ``INTERVAL_MS`` (a small file and a process check). Whenever the
holder changes (another process or time, or none: the folder is free), :attr:`WriterWatch.changed`
is emitted. The watch goes on until the next folder opens: a free folder can be taken again.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from unet_desktop.core.folder.folder_lock import LockHolder, holder_now
from unet_desktop.gui.editing.session import EditingSession


class WriterWatch(QObject):
    changed = Signal()  # another window (or none) holds the open folder now

    INTERVAL_MS = 2000

    def __init__(self, session: EditingSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._last: LockHolder | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._check)
        session.workspace_opened.connect(self._on_workspace_opened)

    @property
    def watching(self) -> bool:
        return self._timer.isActive()

    def _on_workspace_opened(self) -> None:
        ws = self.session.workspace
        if ws is not None and ws.read_only and ws.lock_holder is not None:
            self._last = holder_now(ws.root)
            self._timer.start()
        else:
            self._timer.stop()

    def _check(self) -> None:
        ws = self.session.workspace
        if ws is None:
            self._timer.stop()
            return
        now = holder_now(ws.root)
        if now != self._last:  # a new lock of the same process has a new ``since``
            self._last = now
            self.changed.emit()
