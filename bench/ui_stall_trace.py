"""Where the UI thread is when its event loop stalls (``bench/ui_latency.py --strokes N --trace``).

A watchdog thread reads the time of the last tick of the UI probe (``LoopProbe``) every
:data:`SAMPLE_MS`; while the probe is late by more than ``threshold_ms`` it samples the stacks of
the UI thread and the others. A stall whose samples never arrive on time (the watchdog itself
late) is one where something held the GIL, or the process got no CPU; its ``watchdog_late_ms``
says so.

The stacks are read with ``faulthandler.dump_traceback`` (text, no frame objects): holding a
frame of the UI thread from ``sys._current_frames`` kept its locals alive past the function, so
QTimers were destroyed on the watchdog's thread ("Timers cannot be stopped from another
thread"), and once the process crashed.
"""

from __future__ import annotations

import faulthandler
import re
import tempfile
import threading
import time
from collections import Counter

SAMPLE_MS = 10
_THREAD = re.compile(r"(?:Current thread|Thread) (0x[0-9a-f]+)")
_FRAME = re.compile(r'\s+File "(?:.*/)?([^/"]+)", line (\d+) in (\S+)')


def thread_stacks() -> dict[int, list[str]]:
    """Each thread's stack, innermost first, as "file:line function" lines."""
    with tempfile.TemporaryFile("w+") as f:
        faulthandler.dump_traceback(f, all_threads=True)
        f.seek(0)
        text = f.read()
    stacks: dict[int, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        thread = _THREAD.match(line)
        if thread:
            current = stacks.setdefault(int(thread.group(1), 16), [])
            continue
        frame = _FRAME.match(line)
        if frame and current is not None:
            current.append(f"{frame.group(1)}:{frame.group(2)} {frame.group(3)}")
    return stacks


def _stack(lines: list[str], depth: int = 6) -> str:
    return " <- ".join(lines[:depth])


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
            stacks = thread_stacks()
            if current is None:
                current = {"ms": 0.0, "watchdog_late_ms": 0.0, "ui": Counter(),
                           "others": Counter()}
            current["ms"] = behind * 1000
            current["watchdog_late_ms"] = max(current["watchdog_late_ms"], round(late * 1000, 1))
            current["ui"][_stack(stacks.get(self.ui_thread, ["?"]))] += 1
            for ident, lines in stacks.items():
                if ident not in (self.ui_thread, threading.get_ident()):
                    current["others"][_stack(lines, 3)] += 1

    def stop(self) -> list[dict]:
        self._stop_event.set()
        self.join()
        out = []
        for s in sorted(self.stalls, key=lambda s: -s["ms"]):
            out.append({"ms": s["ms"], "watchdog_late_ms": s["watchdog_late_ms"],
                        "ui_thread": [f"{n}x {k}" for k, n in s["ui"].most_common(3)],
                        "other_threads": [f"{n}x {k}" for k, n in s["others"].most_common(4)]})
        return out
