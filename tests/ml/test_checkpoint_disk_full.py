"""Only the resume checkpoint does not fit on the disk: the run goes on and keeps its model
(it used to stop with an error after epoch 1, and the window threw the trained model away);
the failure is said once and no older checkpoint is left to resume from."""

from __future__ import annotations

import logging

import pytest

from tests.ml.test_train import config, disc_samples, run
from unet_desktop.core.errors import ModelFileError
from unet_desktop.ml.models.modelfile import load_model_file
from unet_desktop.ml.training import train as train_module
from unet_desktop.ml.training.checkpoint import checkpoint_path

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_checkpoint_that_cannot_be_written_costs_only_the_resume(tmp_path, monkeypatch,
                                                                    caplog):
    cfg = config(tmp_path, epochs=2)
    checkpoint_path(cfg.out).write_bytes(b"an older run's checkpoint")
    tries = []

    def disk_full(path, state):
        tries.append(state.epoch)
        raise ModelFileError(path, "cannot write the checkpoint: No space left on device")

    monkeypatch.setattr(train_module, "save_checkpoint", disk_full)
    with caplog.at_level(logging.WARNING):
        _, final = run(disc_samples(), cfg)
    assert final.epochs_run == 2 and final.model_path == cfg.out
    load_model_file(cfg.out)  # the trained model is there
    assert tries == [1]  # said and tried once
    assert not checkpoint_path(cfg.out).exists()
    assert "cannot be resumed" in caplog.text


def test_train_says_on_the_terminal_that_the_run_cannot_be_resumed(tmp_path, monkeypatch,
                                                                   capsys):
    from tests.e2e.test_train_cli import TINY, binary_workspace
    from unet_desktop.cli import main

    def disk_full(path, state):
        raise ModelFileError(path, "cannot write the checkpoint: No space left on device")

    monkeypatch.setattr(train_module, "save_checkpoint", disk_full)
    ws = binary_workspace(tmp_path / "ws", n=4)
    out = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(out), *TINY, "--epochs", "1"]) == 0
    assert "an interrupted run cannot be resumed" in capsys.readouterr().err
    load_model_file(out)
