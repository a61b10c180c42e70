"""A damaged model (its output is not a number) is named in the window when it predicts,
instead of its NaN output showing as a mask of background everywhere."""

from __future__ import annotations

from tests.gui.conftest_model import TIMEOUT_MS, make_model_file, make_pets, window_on
from unet_desktop.ml.models.modelfile import load_model_file, save_model


def damage(path):
    """Weights still finite but so large that the activations overflow (a bad copy)."""
    model, meta = load_model_file(path)
    for name, tensor in model.state_dict().items():
        if name.endswith("weight") and tensor.ndim == 4:
            tensor.mul_(1e20)
    save_model(path, model, meta)
    return path


def test_the_window_says_the_model_output_is_not_a_number(qtbot, tmp_path):
    model = damage(make_model_file(tmp_path / "m" / "damaged.safetensors"))
    win = window_on(qtbot, make_pets(tmp_path / "pets", 3, 0), model)
    try:
        qtbot.waitUntil(lambda: "not a number" in win.statusBar().currentMessage(),
                        timeout=TIMEOUT_MS)
        assert str(model) in win.statusBar().currentMessage()
        assert win.prediction.shown is None  # no all-background prediction on screen
    finally:
        win.close()
