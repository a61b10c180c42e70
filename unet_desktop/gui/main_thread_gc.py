"""Python's cyclic garbage collector, run on the UI thread only.

An automatic collection starts in whichever thread happens to allocate. When it starts on the
model worker's thread and frees a Qt widget that was left in a reference cycle, the widget is
destroyed off the UI thread, which Qt does not allow; here it deadlocked (PySide waiting for the
GIL inside the widget's destructor). So the automatic collector is switched off and a timer on
the UI thread does the same work: it collects the generations whose counts are over the
collector's own thresholds, as the automatic collector would have. A full collection (the
oldest generation) takes about 0.2 s once torch is loaded, and the automatic collector runs it
only when the old generation has grown by a quarter, which Python does not expose; so the timer
runs one at most every ``full_every_s`` seconds.
"""

from __future__ import annotations

import gc
import time

from PySide6.QtCore import QObject, QTimer


def generation_due() -> int | None:
    """The oldest generation the automatic collector would collect now, or None."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = None
    for generation in range(3):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            due = generation
        else:
            break
    return due


class MainThreadGC(QObject):
    """Owns garbage collection while it exists; :meth:`stop` gives it back to Python."""

    def __init__(self, interval_ms: int = 500, full_every_s: float = 300.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.full_every_s = full_every_s
        self._last_full = time.monotonic()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect_if_due)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._timer.start(interval_ms)

    def collect_if_due(self) -> int:
        """Collect what is due (see :func:`generation_due`); returns the objects freed."""
        generation = generation_due()
        if generation is None:
            return 0
        if generation == 2:
            if time.monotonic() - self._last_full < self.full_every_s:
                generation = 1
            else:
                self._last_full = time.monotonic()
        return gc.collect(generation)

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


def install(app: QObject) -> MainThreadGC:
    """Install once per application (a second call returns the first helper)."""
    existing = app.findChild(MainThreadGC)
    return existing if existing is not None else MainThreadGC(parent=app)
