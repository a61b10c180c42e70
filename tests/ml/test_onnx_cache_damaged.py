"""A damaged ONNX cache entry (a copy of the cache cut short, a bad disk) is replaced, once."""

from __future__ import annotations

import torch

from unet_desktop.ml.inference import onnx_engine
from unet_desktop.ml.models.modelfile import load_model_file

torch.set_num_threads(1)


def counted_exports(monkeypatch, make=onnx_engine.export_bytes) -> list[int]:
    calls: list[int] = []

    def export(*args):
        calls.append(1)
        return make(*args)

    monkeypatch.setattr(onnx_engine, "export_bytes", export)
    return calls


def test_damaged_cache_entry_is_exported_again(tmp_path, tiny_model_file, monkeypatch):
    model, _ = load_model_file(tiny_model_file)
    model.eval()
    cache = tmp_path / "cache"
    assert onnx_engine.onnx_network(model, 3, cache_dir=cache) is not None
    (entry,) = cache.glob("*.onnx")
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2])
    exports = counted_exports(monkeypatch)

    assert onnx_engine.onnx_network(model, 3, cache_dir=cache) is not None
    assert len(exports) == 1 and entry.read_bytes() == good
    assert onnx_engine.onnx_network(model, 3, cache_dir=cache) is not None
    assert len(exports) == 1  # the replaced entry is used from then on


def test_damaged_entry_is_exported_again_only_once(tmp_path, tiny_model_file, monkeypatch,
                                                   caplog):
    model, _ = load_model_file(tiny_model_file)
    model.eval()
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / f"{onnx_engine.weights_key(model)}.onnx").write_bytes(b"not an onnx model")
    exports = counted_exports(monkeypatch, make=lambda *args: b"still not an onnx model")

    assert onnx_engine.onnx_network(model, 3, cache_dir=cache) is None  # PyTorch runs it
    assert len(exports) == 1
    assert "exporting the model again" in caplog.text and "PyTorch runs" in caplog.text
