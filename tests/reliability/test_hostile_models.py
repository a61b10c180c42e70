"""Hostile model files: tampered safetensors headers, unusable channel counts, other schemes."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.ml.conftest import make_model_file
from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.maskio import write_mask
from unet_desktop.core.labels import binary_scheme, trimap_scheme
from unet_desktop.ml.api import load_model
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, load_model_file, new_version_id, save_model
from unet_desktop.ml.training.train import TrainConfig, train

torch.set_num_threads(1)

Header = dict


def _split(data: bytes) -> tuple[Header, bytes]:
    """A safetensors file is an 8-byte little-endian header length, a JSON header, the data."""
    length = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8:8 + length]), data[8 + length:]


def _join(header: Header, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + body


def _edit_tensor(name: str, field: str, value) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        header, body = _split(data)
        header[name] = {**header[name], field: value}
        return _join(header, body)

    return edit


def _edit_meta(change: Callable[[dict], None]) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        header, body = _split(data)
        meta = json.loads(header["__metadata__"]["meta"])
        change(meta)
        header["__metadata__"] = {**header["__metadata__"], "meta": json.dumps(meta)}
        return _join(header, body)

    return edit


TAMPERING = {
    "header length beyond the file": lambda d: struct.pack("<Q", len(d)) + d[8:],
    "header that is not JSON": lambda d: struct.pack("<Q", 16) + b"{not json at all" + d[8:],
    "tensor offsets beyond the data": _edit_tensor("head.weight", "data_offsets", [0, 1 << 40]),
    "tensor shape changed": _edit_tensor("head.weight", "shape", [3, 4, 3, 3]),
    "tensor dtype changed": _edit_tensor("head.weight", "dtype", "F16"),
    "data cut short": lambda d: d[:-64],
    "metadata declares a wider network": _edit_meta(lambda m: m["arch"].update(base=8)),
    "metadata with a scheme of 2 classes for 3 outputs": _edit_meta(
        lambda m: m.update(scheme=binary_scheme().to_dict())),
    "metadata that is not JSON": _edit_tensor("__metadata__", "meta", '{"arch": {'),
}


@pytest.mark.reliability("models", "safetensors file with a tampered header or weights")
@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampered_model_file_gives_one_clear_error(tmp_path, case):
    path, _ = make_model_file(tmp_path / "model.safetensors", trimap_scheme())
    tampered = TAMPERING[case](path.read_bytes())
    assert tampered != path.read_bytes()
    path.write_bytes(tampered)
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    with pytest.raises(ModelFileError):  # the scripting API and the CLI take the same path
        load_model(path, device="cpu")


@pytest.mark.reliability("models", "model taking 4 input channels (images are gray or RGB)")
def test_a_model_for_another_channel_count_is_refused_when_loaded(tmp_path):
    meta = ModelMeta(unet_arch(4, 3, depth=2, base=4), trimap_scheme(),
                     {"mean": [0.5] * 4, "std": [0.25] * 4}, 32, new_version_id())
    with pytest.raises(ValueError, match="4 input channels"):
        save_model(tmp_path / "four.safetensors", build_model(meta.arch), meta)
    header = {"format": "unet-desktop", "format_version": "1", "meta": json.dumps(
        {**meta.to_dict(), "created": "2025-01-01"})}
    from safetensors.torch import save_file  # written by another tool, past save_model's check

    path = tmp_path / "four.safetensors"
    save_file(build_model(meta.arch).state_dict(), path, metadata=header)
    with pytest.raises(ModelFileError, match="4 input channels.*gray \\(1\\) or RGB \\(3\\)"):
        load_model(path, device="cpu")


def _trimap_workspace(root: Path) -> Workspace:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    from PIL import Image

    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
            root / "images" / f"a{i}.png")
        write_mask(root / "masks" / f"a{i}.png", rng.integers(1, 4, (32, 32)).astype(np.uint8),
                   trimap_scheme())
    return Workspace.open(root, trimap_scheme())


@pytest.mark.reliability("models", "fine-tuning a binary model on a trimap workspace")
def test_fine_tuning_a_model_of_another_scheme_is_refused_before_anything_is_written(tmp_path):
    init, _ = make_model_file(tmp_path / "binary.safetensors", binary_scheme())
    before = init.read_bytes()
    ws = _trimap_workspace(tmp_path / "ws")
    out = tmp_path / "tuned.safetensors"
    config = TrainConfig(out=out, init=init, epochs=1, size=32, batch_size=2, device="cpu",
                         num_workers=0)
    with pytest.raises(ValueError) as info:
        list(train(ws, config))
    message = str(info.value)
    assert message.startswith(f"{init}: the model predicts binary (")
    assert "training masks are trimap (" in message and "--new-classes" in message
    assert not out.exists() and init.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.safetensors", "ws"]
