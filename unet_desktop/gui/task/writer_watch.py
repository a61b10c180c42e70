"""Notices when the window that writes the open folder lets it go, so that what this read-only
window says about that writer stays true (the banner named a process that had ended).

While the open folder is read-only because another live window holds it, the folder's lock is
read every ``INTERVAL_MS`` (a small file and a process check); the first time
``EditingSession.writer_ended`` is true, :attr:`WriterWatch.writer_ended` is emitted and the
watch stops until the next folder opens.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from unet_desktop.gui.editing.session import EditingSession


class WriterWatch(QObject):
    writer_ended = Signal()  # the window that wrote the open folder no longer holds it

    INTERVAL_MS = 2000

    def __init__(self, session: EditingSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._timer = QTimer(self)
        self._timer.setInterval(self.INTERVAL_MS)
        self._timer.timeout.connect(self._check)
        session.workspace_opened.connect(self._on_workspace_opened)

    @property
    def watching(self) -> bool:
        return self._timer.isActive()

    def _on_workspace_opened(self) -> None:
        ws = self.session.workspace
        held = ws is not None and ws.read_only and ws.lock_holder is not None
        if held and not self.session.writer_ended():
            self._timer.start()
        else:
            self._timer.stop()

    def _check(self) -> None:
        if self.session.writer_ended():
            self._timer.stop()
            self.writer_ended.emit()
