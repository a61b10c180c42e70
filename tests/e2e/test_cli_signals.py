"""What ``unet-desktop train`` and ``predict`` print says what happened: why a run stopped,
how many image files were predicted, and why a file was skipped."""

from __future__ import annotations

import pytest

from tests.e2e.test_train_cli import TINY, binary_workspace
from unet_desktop.cli import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_run_ended_by_max_steps_says_so(tmp_path, capsys):
    """--max-steps is its own stop reason, not the time budget."""
    ws = binary_workspace(tmp_path / "ws", n=4)
    model = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), "--max-steps", "2", *TINY]) == 0
    err = capsys.readouterr().err
    assert "training for up to 10 minutes or 2 steps" in err
    assert "stopped: step limit (--max-steps) reached" in err
    assert "time budget" not in err
