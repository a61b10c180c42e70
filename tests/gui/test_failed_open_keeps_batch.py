"""A folder that cannot be opened (a File > Recent folder moved since) leaves the batch predict
of the open folder running; one whose open fails later says so, not 'another folder was opened'."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import threading

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    make_pets,
    tiny_model,
)
from tests.gui.test_folder_switch_races import batch_writes_held_at, start_a_batch
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.workspace import Workspace


def test_opening_a_folder_that_is_gone_leaves_the_batch_of_the_open_one_running(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "a", n_images=6, n_labelled=0)
    gate, entered = batch_writes_held_at(monkeypatch, image_key(3))
    win = open_window(qtbot, model_path=tiny_model)
    try:
        finished, said = start_a_batch(qtbot, win, a, a)
        assert entered.wait(30)
        # a stop would wait for this write: it goes on shortly after, so a stop ends the run
        threading.Timer(0.5, gate.set).start()
        assert not win.open_folder(tmp_path / "moved_away")
        assert "moved_away: not a folder" in win.last_error
        qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
        assert not finished[0].cancelled and finished[0].done == 6, said
        assert not any("stopped" in m for m in said), said
    finally:
        gate.set()
        win.close()


def test_a_batch_stopped_for_an_open_that_then_fails_says_so(
        qtbot, tmp_path, tiny_model, monkeypatch):
    a = make_pets(tmp_path / "a", n_images=6, n_labelled=0)
    c = make_pets(tmp_path / "c", n_images=2, n_labelled=0)
    gate, entered = batch_writes_held_at(monkeypatch, image_key(3))
    win = open_window(qtbot, model_path=tiny_model)
    try:
        finished, said = start_a_batch(qtbot, win, a, a)
        assert entered.wait(30)
        threading.Timer(0.5, gate.set).start()

        def fails(*_args, **_kw):
            raise FileError(c, "cannot list the folder (Permission denied)")

        monkeypatch.setattr(Workspace, "open", fails)
        assert not win.open_folder(c)
        qtbot.waitUntil(lambda: any("stopped" in m for m in said), timeout=TIMEOUT_MS)
        assert finished[0].cancelled
        stopped = [m for m in said if "stopped" in m]
        assert stopped == [("Batch predict of a stopped to open c, which could not be "
                            "opened (a later run resumes where it stopped)")]
        assert win.session.workspace.root.name == "a"
    finally:
        gate.set()
        win.close()
