"""Errors are said or handled, never dropped (issue 18, item 12: each failed before its fix)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import logging

import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_pets,
    tiny_model,
    window_on,
)
from unet_desktop.gui.worker import Priority, Worker


@pytest.fixture
def win(qtbot, tmp_path, tiny_model):
    w = window_on(qtbot, make_pets(tmp_path / "pets", n_images=2, n_labelled=0), tiny_model)
    yield w
    w.close()


def test_a_device_that_cannot_be_used_is_not_saved_in_the_settings(qtbot, win):
    before = win.settings.device
    with qtbot.waitSignal(win.models.load_failed, timeout=TIMEOUT_MS) as failed:
        win.model_commands.set_device("cuda:99")
    assert "cuda:99" in failed.args[0] and "cuda:99" in win.last_error
    assert win.settings.device == before and win.models.device_name == before
    assert str(win.models.active.predictor.device) == "cpu"


def test_closing_says_when_the_worker_did_not_stop(qtbot, win, caplog, monkeypatch):
    real_shutdown = win.worker.shutdown
    monkeypatch.setattr(win.worker, "shutdown", lambda timeout: real_shutdown(timeout) and False)
    with caplog.at_level(logging.WARNING, logger="unet_desktop.gui.main_window"):
        assert win.close()
    assert any("did not stop within 10 s" in m for m in caplog.messages)


def test_a_raising_result_callback_still_runs_on_finished(qtbot):
    worker = Worker()
    finished = []

    def on_result(value):
        raise RuntimeError("a bug in a result handler")

    with qtbot.captureExceptions() as exceptions:
        worker.submit(lambda token: 42, Priority.INTERACTIVE, on_result=on_result,
                      on_finished=finished.append)
        qtbot.waitUntil(lambda: bool(finished), timeout=TIMEOUT_MS)
    assert finished[0].result == 42
    assert [str(e[1]) for e in exceptions] == ["a bug in a result handler"]
    assert worker.shutdown(10.0)
