"""A prediction is painted with the label scheme of the model that made it, whenever a model
swap happens while its result is handled (issue 18, item 11: failed before the fix)."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import pytest
import torch

from tests.gui.conftest import open_window
from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    image_key,
    tiny_model,
    tiny_pets,
)
from unet_desktop.core.labels import binary_scheme
from unet_desktop.gui.model.model_controller import LoadedModel
from unet_desktop.ml.inference.oom import ResilientPredictor
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id


def binary_model() -> LoadedModel:
    torch.manual_seed(3)
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id() + "-binary", name="binary")
    return LoadedModel(ResilientPredictor(Predictor(build_model(meta.arch), meta, "cpu")), None)


@pytest.mark.parametrize("window_told", [False, True])
def test_a_swap_while_a_result_is_handled_never_pairs_it_with_the_new_scheme(
        qtbot, tiny_model, tiny_pets, window_told, monkeypatch):
    """The worker swaps a binary model into the slots while the old model's result waits on the
    UI thread; the result is painted with the old model's scheme or not at all, whether or not
    the window has heard of the swap yet."""
    win = open_window(qtbot, model_path=tiny_model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    win.prediction_dock.auto_check.setChecked(False)
    assert win.open_folder(tiny_pets)
    key = image_key(0)
    qtbot.waitUntil(lambda: win.prediction.shown_key == key, timeout=TIMEOUT_MS)
    old = win.models.active
    shown = win.prediction.shown
    win.prediction.shown = None
    win.canvas.clear_prediction()

    newer = binary_model()
    win.models.slots.install(newer)  # as the worker does, before the window is told
    if window_told:
        win.models._on_changed(newer)
        assert win.models.active is newer
    else:
        assert win.models.active is old  # what the window was told
    painted = []
    real_paint = win.canvas.set_prediction
    monkeypatch.setattr(win.canvas, "set_prediction", lambda labels, unc, scheme:
                        painted.append(scheme) or real_paint(labels, unc, scheme))
    win.prediction._on_prediction_ready(key, old.version, shown.prediction)
    assert all(scheme == old.meta.scheme for scheme in painted), painted
    if window_told:
        assert not painted  # a result of a model no longer in use is not shown
    if win.prediction.shown is not None:
        assert win.prediction.shown.scheme == old.meta.scheme
    monkeypatch.undo()
    win.close()
