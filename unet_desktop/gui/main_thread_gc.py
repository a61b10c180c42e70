"""Python's cyclic garbage collector, run on the UI thread only.

An automatic collection starts in whichever thread happens to allocate. When it starts on the
model worker's thread and frees a Qt widget that was left in a reference cycle, the widget is
destroyed off the UI thread, which Qt does not allow; here it deadlocked (PySide waiting for the
GIL inside the widget's destructor). So the automatic collector is switched off and a timer on
the UI thread does the same work: it collects the generations whose counts are over the
collector's own thresholds, as the automatic collector would have.

Collections here are larger than the automatic collector's (it runs every 700 allocations,
this timer every half second): while the worker imports torch and loads a model, each young
generation grows by tens of thousands of objects, and the first collection of the middle one
took 0.28 s on the UI thread, the longest hitch of a fine-tuning run. A full collection scans
every object: 0.2-0.3 s once torch is loaded (400,000 objects, nearly all modules, classes and
functions that live as long as the process). :meth:`MainThreadGC.freeze_survivors`, called once
the first model has loaded, moves every object then alive to the collector's permanent
generation (``gc.freeze``, no scan); collections after it scan only newer objects, about 1 ms
for a full one. Until then the timer runs a full collection at most every ``full_every_s``
seconds (the automatic collector runs one when the old generation has grown by a quarter, which
Python does not expose). The price: objects alive at the freeze that are or later become garbage
in a reference cycle are never freed (a few thousand small objects from the imports; anything
without a cycle is freed as usual).
"""

from __future__ import annotations

import atexit
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
        self.frozen = False
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
        if generation == 2 and not self.frozen:
            if time.monotonic() - self._last_full < self.full_every_s:
                generation = 1
            else:
                self._last_full = time.monotonic()
        return gc.collect(generation)

    def freeze_survivors(self) -> int:
        """Freeze every object alive now (see the module docstring): later collections skip
        them. Call when the long-lived objects exist (torch imported, the first model loaded);
        a second call freezes what was created since. Returns the number of frozen objects."""
        gc.freeze()
        if not self.frozen:
            # the interpreter's shutdown must free them: extension modules (triton's) report
            # objects still alive at exit as leaks
            atexit.register(gc.unfreeze)
        self.frozen = True
        return gc.get_freeze_count()

    def thaw(self) -> None:
        """Give the frozen objects back to the collector (they are scanned again)."""
        gc.unfreeze()
        self.frozen = False

    def stop(self) -> None:
        self._timer.stop()
        self.thaw()
        if self._was_enabled:
            gc.enable()


def install(app: QObject) -> MainThreadGC:
    """Install once per application (a second call returns the first helper)."""
    existing = app.findChild(MainThreadGC)
    return existing if existing is not None else MainThreadGC(parent=app)
