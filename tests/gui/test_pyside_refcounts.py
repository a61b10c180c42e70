"""Guards the PySide6 pin in pyproject: 6.12.0 loses a reference to None on every void call and
to True on every emit under CPython 3.11, which aborts the app after a few thousand calls."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal()


def test_void_calls_and_emits_keep_singleton_reference_counts():
    probe, emitter = QObject(), _Emitter()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        probe.setObjectName("probe")
        emitter.fired.emit()
    if sys.version_info < (3, 12):  # 3.12+ makes them immortal, so counts mean nothing there
        assert sys.getrefcount(None) >= none_before - 100
        assert sys.getrefcount(True) >= true_before - 100
