"""`export --opset 5` printed torch's whole internal graph (hundreds of lines) before a one-line
error; `--opset 9` or `10` wrote pets-trimap with ONNX's older Upsample, whose bilinear is not
torch's (0.5-0.8 % of the labels differed, without a word under --no-check): an opset below 11
is refused by the option's name."""

from __future__ import annotations

import pytest

from unet_desktop.cli import main


@pytest.mark.parametrize("opset", ["5", "8", "9", "10"])
def test_export_refuses_an_opset_too_old_by_the_options_name(tmp_path, capsys, opset):
    out = tmp_path / "m.onnx"
    with pytest.raises(SystemExit) as exited:
        main(["export", str(tmp_path / "m.safetensors"), "--onnx", str(out), f"--opset={opset}"])
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert f"argument --opset: must be at least 11, got {opset}" in captured.err
    assert captured.out == "" and not out.exists()
