"""Which image is on screen has one owner, the editing session; the prediction service reads it
and keeps no copy of its own (issue 18, item 14). With a copy, the service still took a late
result for the image the session had let go as the current one."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    tiny_model,
    tiny_pets,
)


def test_the_service_follows_the_session_when_the_image_is_let_go_or_cannot_be_read(
        qtbot, tiny_model, tiny_pets):
    win = open_window(qtbot, model_path=tiny_model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    win.prediction_dock.auto_check.setChecked(False)
    assert win.open_folder(tiny_pets)
    first = image_key(0)
    qtbot.waitUntil(lambda: win.prediction.shown_key == first, timeout=TIMEOUT_MS)
    version = win.models.active_version
    assert win.predictions.is_current(first, version)

    assert win.session.close_document("leave")  # the session lets the image go
    assert win.session.current_key is None
    assert not win.predictions.is_current(first, version)

    broken = image_key(5)
    win.session.workspace[broken].image_path.write_bytes(b"not an image")
    win.session.open_image(first)
    assert win.predictions.is_current(first, version)
    assert not win.session.open_image(broken)  # unreadable: no image on screen any more
    assert win.session.current_key is None
    assert not win.predictions.is_current(first, version)
    assert not win.predictions.is_current(broken, version)
    win.close()
