"""`train` refuses options it would otherwise drop or misread, naming the option: --classes
without --scheme multiclass (a 12-class model was made from `--classes 11`), --max-steps below 1
(a model was written "stopped: step limit reached" after no step), --channels 0 (1-based)."""

from __future__ import annotations

import pytest

from tests.e2e.test_train_cli import TINY, binary_workspace
from unet_desktop.cli import main


@pytest.mark.parametrize("extra, said", [
    (["--classes", "3"], "--classes goes with --scheme multiclass"),
    (["--scheme", "binary", "--classes", "3"], "a binary scheme has its own classes"),
    (["--max-steps", "0"], "--max-steps must be at least 1, got 0"),
    (["--max-steps", "-5"], "--max-steps must be at least 1, got -5"),
    (["--channels", "0"], "--channels counts from 1 (the first channel is 1), got '0'"),
])
def test_train_refuses_an_option_it_would_drop_or_misread(tmp_path, capsys, extra, said):
    ws = binary_workspace(tmp_path / "ws", n=2)
    model = tmp_path / "m.safetensors"
    assert main(["train", str(ws), "--out", str(model), *TINY, *extra]) == 2
    assert said in capsys.readouterr().err
    assert not model.exists()


def test_train_never_writes_over_a_task_version_or_the_model_it_fine_tunes(tmp_path, capsys,
                                                                            monkeypatch):
    """`train --out` onto a version of a folder's task replaced the model the task records and
    rolls back to; `--init m --out ./m` (the same file spelled twice) replaced the model read."""
    ws = binary_workspace(tmp_path / "ws", n=2)
    versions = ws / ".unet-desktop" / "models"
    versions.mkdir(parents=True)
    version = versions / "ws-v2.safetensors"
    version.write_bytes(b"the task's version 2")
    assert main(["train", str(ws), "--out", str(version), *TINY]) == 2
    assert "is a version of a task" in capsys.readouterr().err
    assert version.read_bytes() == b"the task's version 2"

    model = tmp_path / "m.safetensors"
    model.write_bytes(b"the user's model")
    monkeypatch.chdir(tmp_path)
    assert main(["train", str(ws), "--init", "m.safetensors", "--out", "./m.safetensors",
                 *TINY]) == 2
    assert "is the model being fine-tuned" in capsys.readouterr().err
    assert model.read_bytes() == b"the user's model"


@pytest.mark.parametrize("extra, given", [(["--channels", "2"], "--channels"),
                                          (["--input-rule", "percentile"], "--input-rule")])
def test_a_fine_tune_refuses_a_new_input_instead_of_dropping_it(tmp_path, capsys, extra, given):
    """`train --init M --channels 2` trained on all three channels as M does, without a word."""
    from tests.gui.conftest_model import make_model_file

    ws = binary_workspace(tmp_path / "ws", n=2)
    parent = make_model_file(tmp_path / "parent.safetensors")
    out = tmp_path / "child.safetensors"
    assert main(["train", str(ws), "--init", str(parent), "--out", str(out), *TINY,
                 *extra]) == 2
    err = capsys.readouterr().err
    assert f"{given} sets a new model's input; a fine-tune sees its images as parent" in err
    assert not out.exists()


def test_a_model_files_channel_misfit_names_the_model_not_a_task():
    from unet_desktop.core.io.input_rule import InputRule

    rule = InputRule("data-range", channels=(1,))
    assert "the model takes channel(s) 2" in rule.misfit(1, of_model=True)
    assert "the task feeds the model channel(s) 2" in rule.misfit(1)
