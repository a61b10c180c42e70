"""ml.reports: the window tells job reports apart by class on the UI thread, so the module that
defines them (and the window's modules that import it) must not import torch."""

import os
import subprocess
import sys

CHECK = """
import sys
import unet_desktop.ml.reports
import unet_desktop.gui.training.training_dock
import unet_desktop.gui.training.learning_controller
print("torch" in sys.modules)
"""


def test_the_reports_and_the_window_that_reads_them_import_no_torch():
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                         check=False, timeout=120,
                         env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_each_report_is_defined_once_and_read_from_one_place():
    from unet_desktop.ml import reports
    from unet_desktop.ml.loop import learning_loop, promotion_gate
    from unet_desktop.ml.training import dataset, train

    assert train.FinalReport is reports.FinalReport
    assert dataset.SkippedPair is reports.SkippedPair
    assert promotion_gate.GateReport is reports.GateReport
    assert learning_loop.RoundResult is reports.RoundResult
