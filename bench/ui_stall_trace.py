"""Where the UI thread is when its event loop stalls (``bench/ui_latency.py --strokes N --trace``).

A watchdog thread reads the time of the last tick of the UI probe (``LoopProbe``) every
:data:`SAMPLE_MS`; while the probe is late by more than ``threshold_ms`` it samples the UI
thread's stack (``sys._current_frames``) and the other threads'. A stall whose samples never
arrive on time (the watchdog itself late) is one where something held the GIL, or the process
got no CPU; its ``watchdog_late_ms`` says so.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections import Counter

SAMPLE_MS = 10


def _stack(frame, depth: int = 6) -> str:
    lines = traceback.extract_stack(frame)[-depth:]
    return " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                       for f in reversed(lines))


class StallTracer(threading.Thread):
    """Samples the UI thread while ``last_tick()`` (perf_counter seconds) is older than the
    threshold; :meth:`stop` returns the stalls, longest first."""

    def __init__(self, last_tick, threshold_ms: float = 60.0) -> None:
        super().__init__(name="stall-tracer", daemon=True)
        self.last_tick, self.threshold = last_tick, threshold_ms / 1000
        self.ui_thread = threading.main_thread().ident
        self._stop_event = threading.Event()
        self.stalls: list[dict] = []

    def run(self) -> None:
        current: dict | None = None
        expected = time.perf_counter()
        while not self._stop_event.is_set():
            expected += SAMPLE_MS / 1000
            time.sleep(max(0.0, expected - time.perf_counter()))
            now = time.perf_counter()
            late = now - expected
            expected = max(expected, now)
            behind = now - self.last_tick()
            if behind < self.threshold:
                if current is not None:
                    current["ms"] = round(current["ms"], 1)
                    self.stalls.append(current)
                    current = None
                continue
            frames = sys._current_frames()
            if current is None:
                current = {"ms": 0.0, "watchdog_late_ms": 0.0, "ui": Counter(),
                           "others": Counter()}
            current["ms"] = behind * 1000
            current["watchdog_late_ms"] = max(current["watchdog_late_ms"], round(late * 1000, 1))
            ui = frames.get(self.ui_thread)
            current["ui"][_stack(ui) if ui is not None else "?"] += 1
            for ident, frame in frames.items():
                if ident not in (self.ui_thread, threading.get_ident()):
                    current["others"][_stack(frame, 3)] += 1

    def stop(self) -> list[dict]:
        self._stop_event.set()
        self.join()
        out = []
        for s in sorted(self.stalls, key=lambda s: -s["ms"]):
            out.append({"ms": s["ms"], "watchdog_late_ms": s["watchdog_late_ms"],
                        "ui_thread": [f"{n}x {k}" for k, n in s["ui"].most_common(3)],
                        "other_threads": [f"{n}x {k}" for k, n in s["others"].most_common(4)]})
        return out
