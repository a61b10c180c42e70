"""The cyclic garbage collector runs on the UI thread only (see gui/main_thread_gc.py)."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from unet_desktop.gui import main_thread_gc
from unet_desktop.gui.main_thread_gc import MainThreadGC, generation_due


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_application_owns_collection_on_its_thread(qapp):
    helper = main_thread_gc.install(QApplication.instance())
    assert isinstance(helper, MainThreadGC)
    assert main_thread_gc.install(QApplication.instance()) is helper  # once per application
    assert not gc.isenabled()


def test_a_worker_thread_allocating_cycles_never_collects_them(qapp):
    helper = MainThreadGC(interval_ms=60_000)
    try:
        freed: list[int] = []
        gc.callbacks.append(lambda phase, info: freed.append(threading.get_ident())
                            if phase == "stop" else None)
        worker = threading.Thread(target=lambda: [Cycle() for _ in range(20 * gc.get_threshold()[0])])
        worker.start()
        worker.join()
        assert threading.get_ident() not in freed and freed == []  # nothing ran automatically
        assert generation_due() is not None
        assert helper.collect_if_due() > 0  # the UI thread frees the cycles
        assert threading.get_ident() in freed
    finally:
        gc.callbacks.pop()
        helper.stop()


def test_full_collections_are_rationed(qapp, monkeypatch):
    helper = MainThreadGC(interval_ms=60_000, full_every_s=300.0)
    collected: list[int] = []
    monkeypatch.setattr(main_thread_gc, "generation_due", lambda: 2)
    monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
    try:
        helper.collect_if_due()
        helper._last_full -= 301.0
        helper.collect_if_due()
        helper.collect_if_due()
    finally:
        monkeypatch.undo()
        helper.stop()
    assert collected == [1, 2, 1]  # the oldest generation once per full_every_s


def test_stop_gives_collection_back(qapp):
    parent = QObject()
    gc.enable()
    helper = MainThreadGC(parent=parent)
    assert not gc.isenabled()
    helper.stop()
    assert gc.isenabled()
    gc.disable()  # the application's helper owns collection again for the other tests


def test_frozen_survivors_are_skipped_and_new_garbage_still_collected(qapp):
    helper = MainThreadGC(interval_ms=60_000)
    try:
        before = Cycle()
        old_ref = weakref.ref(before)
        assert helper.freeze_survivors() >= 1 and helper.frozen
        del before  # garbage in a cycle, but frozen: never scanned
        young = Cycle()
        young_ref = weakref.ref(young)
        del young
        gc.collect()
        assert old_ref() is not None and young_ref() is None
        helper.thaw()
        assert not helper.frozen and gc.get_freeze_count() == 0
        gc.collect()
        assert old_ref() is None  # thawed: the old cycle is freed
    finally:
        helper.stop()


def test_once_frozen_full_collections_are_not_rationed(qapp, monkeypatch):
    helper = MainThreadGC(interval_ms=60_000, full_every_s=300.0)
    collected: list[int] = []
    try:
        helper.freeze_survivors()
        monkeypatch.setattr(main_thread_gc, "generation_due", lambda: 2)
        monkeypatch.setattr(gc, "collect", lambda generation=2: collected.append(generation) or 0)
        helper.collect_if_due()
        helper.collect_if_due()
    finally:
        monkeypatch.undo()
        helper.stop()
    assert collected == [2, 2]
