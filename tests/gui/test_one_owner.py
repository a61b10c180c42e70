"""One owner for each piece of state, the others read it (issue 18, item 14).

- Which image is on screen: the editing session. With a copy of its own, the prediction service
  still took a late result for the image the session had let go as the current one.
- Auto-accept: the settings. With a copy in the prediction controller, a change of the setting
  that did not go through the dock left the controller accepting predictions by itself.
"""
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


def test_auto_accept_is_read_from_the_settings_not_kept_by_the_controller(
        qtbot, tiny_model, tiny_pets):
    win = open_window(qtbot, model_path=tiny_model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.prediction.auto_accept
    win.settings.auto_accept = False  # the owner changes, not through the dock
    assert not win.prediction.auto_accept
    assert win.open_folder(tiny_pets)
    unlabeled = image_key(4)
    with qtbot.waitSignal(win.prediction.prediction_shown, timeout=TIMEOUT_MS,
                          check_params_cb=lambda key: key == unlabeled):
        win.file_dock.select_key(unlabeled)
    assert not win.session.is_accepted_prediction() and not win.session.document.dirty
    win.close()
