"""The prediction from the strokes runs beside the window's UI thread: its modules must not
import torch (seconds of an import holding the GIL; the window stalled meanwhile)."""

from __future__ import annotations

import subprocess
import sys


def test_the_stroke_prediction_does_not_import_torch():
    code = ("import sys, unet_desktop.ml.strokes.stroke_prediction, sklearn.ensemble; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
