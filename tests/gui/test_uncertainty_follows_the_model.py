"""The file list's uncertainty (and the sort by it) is the model in use's: after a roll back the
other images show the rolled-back-to model's cached scores, not the rejected model's; an image
the new model has not predicted yet shows none."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import pytest

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_model_file,
    make_pets,
    tiny_model,
    window_on,
)
from unet_desktop.gui.editing.image_list_model import UNCERTAINTY_ROLE


def predict_each(qtbot, win, keys) -> dict[str, float]:
    """Look at each image in turn; the model in use's scores of them, once the list has them
    (a result is cached on the worker's thread before it reaches the window)."""
    service, ws = win.prediction.service, win.session.workspace

    def listed(key: str) -> bool:
        return key in service.scores() and ws[key].uncertainty == service.scores()[key]

    for key in keys:
        win.file_dock.select_key(key)
        qtbot.waitUntil(lambda key=key: listed(key), timeout=TIMEOUT_MS)
    return {key: service.scores()[key] for key in keys}


def switch_to(qtbot, win, path):
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS,
                          check_params_cb=lambda m: m is not None and m.path == path):
        win.models.load(path)


def test_roll_back_shows_the_rolled_back_models_scores_for_every_image(qtbot, tmp_path,
                                                                        tiny_model):
    pets = make_pets(tmp_path / "pets", n_images=5, n_labelled=0)
    win = window_on(qtbot, pets, tiny_model)
    ws = win.session.workspace
    keys = [e.key for e in ws.entries]
    first = predict_each(qtbot, win, keys)
    other = make_model_file(tmp_path / "models" / "other.safetensors", seed=3, name="other")
    switch_to(qtbot, win, other)
    second = predict_each(qtbot, win, keys)
    assert all(second[k] != pytest.approx(first[k], abs=1e-6) for k in keys)  # tells them apart
    assert [ws[k].uncertainty for k in keys] == pytest.approx([second[k] for k in keys])

    assert win.model_commands.rollback()
    assert win.models.active.path == tiny_model
    assert [ws[k].uncertainty for k in keys] == pytest.approx([first[k] for k in keys])
    shown = [win.file_dock.row_data(k, UNCERTAINTY_ROLE) for k in keys]  # what the list sorts by
    assert shown == pytest.approx([first[k] for k in keys])

    third = make_model_file(tmp_path / "models" / "third.safetensors", seed=5, name="third")
    win.prediction.service.cancel_pending()
    switch_to(qtbot, win, third)  # nothing of it cached yet: no figure until it predicts
    scored = set(win.prediction.service.scores())
    assert all(ws[k].uncertainty is None for k in keys if k not in scored)
    win.close()
