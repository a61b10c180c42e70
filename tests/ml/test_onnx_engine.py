"""The ONNX Runtime engine: same outputs as PyTorch, cached export, fallback to PyTorch."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.inference import onnx_engine
from unet_desktop.ml.inference.predictor import Predictor
from unet_desktop.ml.models.architecture import build_model
from unet_desktop.ml.models.modelfile import load_model_file

torch.set_num_threads(1)


def image(height: int, width: int, channels: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 256, (height, width, channels), dtype=np.uint8)
    return out[:, :, 0] if channels == 1 else out


@pytest.mark.parametrize("mode", ["resize", "tile"])
@pytest.mark.parametrize(("channels", "scheme"), [(3, trimap_scheme()), (1, binary_scheme())])
def test_onnxruntime_matches_pytorch(model_file_factory, mode, channels, scheme):
    path, _ = model_file_factory(scheme, in_channels=channels, depth=3, base=4)
    options = {"device": "cpu", "mode": mode, "tile_size": 48, "tile_overlap": 8, "tta": True}
    fast = Predictor.from_file(path, **options)
    plain = Predictor.from_file(path, engine="torch", **options)
    assert (fast.engine, plain.engine) == ("onnxruntime", "torch")
    picture = image(45, 61, channels)  # odd sizes: padded to 8 and cropped back
    a, b = fast.predict(picture), plain.predict(picture)
    np.testing.assert_allclose(a.probs, b.probs, atol=1e-5)
    np.testing.assert_allclose(a.uncertainty, b.uncertainty, atol=1e-4)
    assert (a.labels == b.labels).mean() > 0.999


@pytest.mark.parametrize("width", [64, 16])
def test_resnet_unet_runs_on_onnxruntime(tmp_path, width):
    from unet_desktop.ml.models.modelfile import ModelMeta, save_model

    arch = {"name": "resnet_unet", "encoder": "resnet18", "in_channels": 3, "num_classes": 2,
            "width": width}
    torch.manual_seed(0)
    meta = ModelMeta(arch=arch, scheme=binary_scheme(), train_size=64, version="v",
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3})
    save_model(tmp_path / "r.safetensors", build_model(arch), meta)
    fast = Predictor.from_file(tmp_path / "r.safetensors", device="cpu")
    plain = Predictor.from_file(tmp_path / "r.safetensors", device="cpu", engine="torch")
    picture = image(70, 90, 3)
    assert fast.engine == "onnxruntime"
    np.testing.assert_allclose(fast.predict(picture).probs, plain.predict(picture).probs,
                               atol=1e-5)


def test_export_is_cached_by_weights(tmp_path, tiny_model_file, monkeypatch):
    model, _ = load_model_file(tiny_model_file)
    cache = tmp_path / "cache"
    assert onnx_engine.onnx_network(model.eval(), 3, cache_dir=cache) is not None
    assert len(list(cache.glob("*.onnx"))) == 1

    def no_export(*args):
        raise AssertionError("exported again although the cache holds this model")

    monkeypatch.setattr(onnx_engine, "export_bytes", no_export)
    assert onnx_engine.onnx_network(model, 3, cache_dir=cache) is not None
    with torch.no_grad():
        model.head.bias.add_(1.0)  # other weights: another cache entry, so a new export
    with pytest.raises(AssertionError, match="exported again"):
        onnx_engine._cached_export(model, 3, cache)


def test_cache_keeps_only_the_most_recently_used_exports(tmp_path, tiny_model_file,
                                                         monkeypatch):
    model, _ = load_model_file(tiny_model_file)
    model.eval()
    cache = tmp_path / "cache"
    monkeypatch.setattr(onnx_engine, "CACHE_ENTRIES", 2)
    keys = []
    for version in range(3):
        with torch.no_grad():
            model.head.bias.add_(1.0)  # a fine-tuned version: new weights, new entry
        onnx_engine._cached_export(model, 3, cache)
        keys.append(onnx_engine.weights_key(model))
        os.utime(cache / f"{keys[-1]}.onnx", (1000.0 + version, 1000.0 + version))
    assert sorted(p.stem for p in cache.glob("*.onnx")) == sorted(keys[1:])


def test_export_failure_falls_back_to_pytorch(tiny_model_file, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(onnx_engine, "export_bytes", broken)
    monkeypatch.setenv("UNET_DESKTOP_CACHE", str(tiny_model_file.parent / "empty-cache"))
    predictor = Predictor.from_file(tiny_model_file, device="cpu")
    assert predictor.engine == "torch" and "exporter broke" in caplog.text
    assert predictor.predict(image(20, 30, 3)).labels.shape == (20, 30)
    with pytest.raises(ValueError, match="ONNX Runtime cannot run this model"):
        Predictor.from_file(tiny_model_file, device="cpu", engine="onnxruntime")


def test_engine_choice(tiny_model_file):
    assert Predictor.from_file(tiny_model_file, device="cpu", amp=True).engine == "torch"
    with pytest.raises(ValueError, match="fp32 on the CPU only"):
        Predictor.from_file(tiny_model_file, device="cpu", amp=True, engine="onnxruntime")
    with pytest.raises(ValueError, match="engine must be"):
        Predictor.from_file(tiny_model_file, device="cpu", engine="tensorrt")


def test_added_convolution_outputs_share_one_declared_shape(tiny_model_file):
    import onnx

    from unet_desktop.ml.models.fuse import fold_batchnorm

    model, meta = load_model_file(tiny_model_file)
    graph = onnx.load_from_string(
        onnx_engine.export_bytes(fold_batchnorm(model)[0], meta.in_channels)).graph
    declared = {info.name: [d.dim_param or d.dim_value for d in info.type.tensor_type.shape.dim]
                for info in graph.value_info}
    adds = [node for node in graph.node if node.op_type == "Add"]
    assert adds  # the split decoder adds its two convolutions
    for node in adds:
        first, second = (declared[name] for name in node.input)
        assert first == second and first[0] == "batch" and isinstance(first[1], int)
        assert isinstance(first[2], str) and first[2] != "height"
    assert len({tuple(declared[node.input[0]]) for node in adds}) == len(adds)
