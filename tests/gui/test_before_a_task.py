"""Before a folder has a task the window claims no scheme and shows nothing of a model whose
classes are not the folder's: no tint behind the New Task dialog, no uncertainties in the list
(issue 33, item 8)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401 - fixture by name
from tests.gui.test_task_flow import cells, task_dialog  # noqa: F401 - fixture by name
from unet_desktop.gui.editing.image_list_model import UNCERTAINTY_ROLE


def uncertainties(win) -> list:
    view = win.file_dock.view
    model = view.model()
    return [model.index(r, 0).data(UNCERTAINTY_ROLE) for r in range(model.rowCount())]


def test_no_scheme_claimed_and_no_misfit_prediction_shown(qtbot, cells, tiny_model):
    win = open_window(qtbot, model_path=tiny_model, ask_for_task=True)  # a trimap model
    # installed by the worker, then heard of by the window (its "Predicting with" message)
    qtbot.waitUntil(lambda: win.model_actions.save_model_as.isEnabled(), timeout=TIMEOUT_MS)
    assert win.open_folder(cells)
    status = win.statusBar().currentMessage()
    assert "no task yet" in status and "trimap" not in status, status
    dialog = task_dialog(qtbot, win)
    win.predictions.prefetch(win.file_dock.visible_keys())  # whatever the model would say...
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    document = win.session.document
    assert not win.canvas.has_prediction()  # ...nothing tints the image behind the dialog
    assert not document.dirty and win.prediction.shown is None
    assert uncertainties(win) == [None] * 6
    dialog.name_edit.setText("cells")  # binary: the trimap model does not fit
    dialog.accept()
    qtbot.waitUntil(lambda: win.task_banner.isVisible(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    win.predictions.prefetch(win.file_dock.visible_keys())
    qtbot.waitUntil(win.worker.is_idle, timeout=TIMEOUT_MS)
    qtbot.wait(100)
    assert uncertainties(win) == [None] * 6  # the misfit model ranks nothing
    assert not win.session.document.dirty  # and its guess is not the mask
    win.close()
