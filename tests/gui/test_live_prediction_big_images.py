"""An image too big for the live prediction's features (124-148 bytes a pixel: an 8000 x 8000
one would have needed about 30 GB, the window was killed) gets none, and the status line says
why; the model's prediction stays. Smaller images keep theirs (test_sparse_correction.py)."""

from __future__ import annotations

from tests.gui.conftest_model import tiny_model  # noqa: F401
from tests.gui.helpers import drag
from tests.gui.test_sparse_correction import disc_window
from unet_desktop.gui.model import live_prediction


def test_an_image_over_the_budget_gets_no_live_prediction_and_says_why(qtbot, tmp_path,
                                                                       monkeypatch):
    monkeypatch.setattr(live_prediction, "MAX_PIXELS", 40 * 48 - 1)  # the disc is 48 x 40
    said = []
    monkeypatch.setattr(live_prediction.LivePrediction, "_warm_up",
                        lambda self, image: said.append("features computed"))
    too_big = live_prediction.LivePrediction._too_big

    def listening(self, document):  # the status line, from the first image opened on
        self.prediction.status_changed.connect(said.append)
        return too_big(self, document)

    monkeypatch.setattr(live_prediction.LivePrediction, "_too_big", listening)
    win, _ = disc_window(qtbot, tmp_path)
    model_version = win.prediction.shown.version
    win.tools.set_tool("brush")
    win.tools.set_value(255)
    drag(qtbot, win.canvas, [(20, 20), (28, 20)])
    qtbot.wait(2 * live_prediction.PAUSE_MS)
    assert "features computed" not in said
    assert any("No prediction from the strokes for this image: at 48 x 40 pixels" in s
               for s in said if isinstance(s, str))
    assert win.prediction.shown.version == model_version
