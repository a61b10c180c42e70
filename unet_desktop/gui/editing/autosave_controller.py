"""Autosave timing: a single-shot timer restarted by every edit."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

DEFAULT_DELAY_MS = 1500  # well inside the promised 2 s, counting the write itself


class AutosaveController(QObject):
    """Calls ``save_fn()`` ``delay_ms`` after the last :meth:`notify_edit`.

    ``busy_fn()`` returning True (e.g. a stroke still in progress) postpones the save by another
    delay instead of saving half a stroke.
    """

    def __init__(
        self,
        save_fn: Callable[[], object],
        busy_fn: Callable[[], bool] = lambda: False,
        delay_ms: int = DEFAULT_DELAY_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._save_fn = save_fn
        self._busy_fn = busy_fn
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._on_timeout)

    @property
    def delay_ms(self) -> int:
        return self._timer.interval()

    @property
    def pending(self) -> bool:
        return self._timer.isActive()

    def notify_edit(self) -> None:
        self._timer.start()  # (re)starts the countdown

    def cancel(self) -> None:
        self._timer.stop()

    def _on_timeout(self) -> None:
        if self._busy_fn():
            self._timer.start()
            return
        self._save_fn()
