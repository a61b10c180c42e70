"""An ONNX export never destroys a model: a target that is a model file is refused (the model's
own name, picked by a slip), and the ONNX file is written atomically, checked before it is
written (a failed export leaves no file)."""

import pytest

from unet_desktop.cli import main
from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.labels import trimap_scheme
from unet_desktop.ml.model_files import export_onnx, export_onnx_file
from unet_desktop.ml.models.modelfile import load_model_file

pytest.importorskip("onnx")


def test_export_onto_the_model_itself_is_refused_and_the_model_kept(tiny_model_file, capsys):
    before = tiny_model_file.read_bytes()
    with pytest.raises(ModelFileError, match="the model file being exported.*choose a .onnx"):
        export_onnx_file(tiny_model_file, tiny_model_file)
    assert main(["export", str(tiny_model_file), "--onnx", str(tiny_model_file)]) != 0
    assert "choose a .onnx name" in capsys.readouterr().err
    assert tiny_model_file.read_bytes() == before
    load_model_file(tiny_model_file)  # still a model


def test_export_onto_another_model_file_is_refused(tiny_model_file, model_file_factory):
    other = model_file_factory(trimap_scheme(), seed=1, name="other.safetensors")[0]
    before = other.read_bytes()
    with pytest.raises(ModelFileError, match="a unet-desktop model file"):
        export_onnx_file(tiny_model_file, other)
    assert main(["export", str(tiny_model_file), "--onnx", str(other), "--no-check"]) != 0
    assert other.read_bytes() == before


def test_an_export_over_an_older_onnx_file_is_allowed(tmp_path, tiny_model_file):
    out = tmp_path / "tiny.onnx"
    out.write_bytes(b"an older export")
    assert "Exported tiny.onnx" in export_onnx_file(tiny_model_file, out)
    assert out.stat().st_size > 1000


def test_a_failed_check_leaves_no_file(tmp_path, tiny_model_file):
    model, meta = load_model_file(tiny_model_file)
    out = tmp_path / "out" / "tiny.onnx"
    out.parent.mkdir()

    def disagree(net, onnx_bytes):
        assert len(onnx_bytes) > 1000
        raise RuntimeError("onnxruntime disagrees")

    with pytest.raises(RuntimeError, match="disagrees"):
        export_onnx(model, meta, out, check=disagree)
    assert list(out.parent.iterdir()) == []
