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


@pytest.mark.parametrize("swap_after_reads", [0, 1, 2, 3])
def test_a_swap_while_a_result_is_handled_never_pairs_it_with_the_new_scheme(
        qtbot, tiny_model, tiny_pets, swap_after_reads, monkeypatch):
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

    newer, slots, reads = binary_model(), win.models.slots, []
    real_active = type(slots).active

    def active(self):  # the worker swaps in the binary model after some reads
        reads.append(1)
        if len(reads) == swap_after_reads + 1:
            self.install(newer)
        return real_active(self)

    monkeypatch.setattr(type(slots), "active", active)
    painted = []
    real_paint = win.canvas.set_prediction
    monkeypatch.setattr(win.canvas, "set_prediction", lambda labels, unc, scheme:
                        painted.append(scheme) or real_paint(labels, unc, scheme))
    win.prediction._on_prediction_ready(key, old.version, shown.prediction)
    assert all(scheme == old.meta.scheme for scheme in painted), painted
    if win.prediction.shown is not None:
        assert win.prediction.shown.scheme == old.meta.scheme
    monkeypatch.undo()
    win.close()
