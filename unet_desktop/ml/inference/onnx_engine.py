"""CPU inference through ONNX Runtime, with outputs equal to PyTorch's within float tolerance.

On this project's 2-core CPU, ONNX Runtime runs the BatchNorm-folded UNet as fast as PyTorch
eager with channels-last for one image on one thread, about 1.15x faster in batches, and far
faster when other work keeps the cores busy (its idle threads do not spin), so the predictor
uses it on the CPU when it is installed (docs/benchmarks.md). The network is exported once per
model (about a second) and the ONNX bytes are cached under the user cache folder, keyed by a
hash of the weights, so opening the same model again costs only the session start (~0.2 s).
Anything that goes wrong here falls back to PyTorch: :func:`onnx_network` returns None.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from unet_desktop.ml.models.split_concat import split_concat_convs
from unet_desktop.ml.models.unet import pad_to_multiple

log = logging.getLogger(__name__)
OPSET = 17
EXPORT_FORM = 3  # bumped when the exported graph changes (2: decoder concatenations split,
# 3: the shapes of added convolution outputs declared equal)
CACHE_ENTRIES = 16  # exports kept in the cache folder, most recently used first


def onnxruntime_available() -> bool:
    try:
        import onnx  # noqa: F401  (the exporter needs it)
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


class Unpadded(nn.Module):
    """The network without its size-dependent pad and crop (``forward_padded``): what is
    exported; :class:`OnnxNetwork` pads and crops around it."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_padded(x)


def export_bytes(model: nn.Module, in_channels: int, opset: int = OPSET) -> bytes:
    """ONNX of ``model.forward_padded`` with dynamic batch, height and width (a folded U-Net's
    decoder concatenations split, see :mod:`unet_desktop.ml.models.split_concat`)."""
    side = 2 * int(model.size_multiple)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        torch.onnx.export(
            Unpadded(split_concat_convs(model)).eval(),
            (torch.zeros(1, in_channels, side, side),), buffer,
            dynamo=False, opset_version=opset, input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                          "logits": {0: "batch", 2: "height", 3: "width"}},
        )
    return declare_added_shapes_equal(buffer.getvalue())


def declare_added_shapes_equal(onnx_bytes: bytes) -> bytes:
    """Give both inputs of every ``Add`` of two convolution outputs the same symbolic shape.

    With dynamic height and width, ONNX shape inference cannot prove that the two branches of a
    split decoder block (or of a ResNet block with a downsampling shortcut) have equal sizes, so
    ONNX Runtime adds them as a separate pass instead of fusing the addition and the ReLU after
    it into the second convolution (it reads the first's output as it writes). PyTorch added
    these tensors without broadcasting when the graph was traced, so they are equal.
    """
    import onnx
    from onnx import TensorProto, helper

    proto = onnx.load_from_string(onnx_bytes)
    graph = proto.graph
    producer = {out: node for node in graph.node for out in node.output}
    weights = {init.name: init for init in graph.initializer}
    declared = {info.name for info in graph.value_info}
    for index, node in enumerate(n for n in graph.node if n.op_type == "Add"):
        convs = [producer.get(name) for name in node.input]
        if len(convs) != 2 or any(c is None or c.op_type != "Conv" for c in convs):
            continue
        channels = {weights[c.input[1]].dims[0] for c in convs if c.input[1] in weights}
        if len(channels) != 1 or any(name in declared for name in node.input):
            continue
        shape = ["batch", channels.pop(), f"add{index}_height", f"add{index}_width"]
        for name in node.input:
            graph.value_info.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    return proto.SerializeToString()


def weights_key(model: nn.Module) -> str:
    """Hash of the architecture description and every parameter/buffer (order included)."""
    digest = hashlib.sha1(f"{OPSET}:{EXPORT_FORM}:{torch.__version__}:{model!r}".encode())
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _cache_path(model: nn.Module, cache_dir: Path | None) -> Path | None:
    return None if cache_dir is None else cache_dir / f"{weights_key(model)}.onnx"


def _read_cached(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        data = path.read_bytes()
        path.touch()  # recently used: kept by _prune_cache
        return data
    except OSError:
        return None


def _export_to_cache(model: nn.Module, in_channels: int, path: Path | None) -> bytes:
    data = export_bytes(model, in_channels)
    if path is None:
        return data
    try:
        from unet_desktop.core.io.atomic import atomic_write_bytes

        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, data)
        _prune_cache(path.parent)
    except OSError as exc:  # a read-only cache only costs the export next time
        log.info("could not cache the ONNX model in %s: %s", path, exc)
    return data


def _cached_export(model: nn.Module, in_channels: int, cache_dir: Path | None) -> bytes:
    path = _cache_path(model, cache_dir)
    data = _read_cached(path)
    return data if data is not None else _export_to_cache(model, in_channels, path)


def _open_cached_or_export(model: nn.Module, in_channels: int, cache_dir: Path | None,
                           open_network: Callable[[bytes], OnnxNetwork]) -> OnnxNetwork:
    """``open_network`` of the cached export, or of a new one (then cached). A cached entry
    that does not open (a copy of the cache cut short, a bad disk) is deleted and the model
    exported again, once, so that later loads do not fall back to PyTorch for good."""
    path = _cache_path(model, cache_dir)
    data = _read_cached(path)
    if data is not None:
        try:
            return open_network(data)
        except Exception as exc:  # noqa: BLE001 - whatever the runtime says of damaged bytes
            log.warning("The cached ONNX model %s does not load (%s); exporting the model again",
                        path, exc)
            with contextlib.suppress(OSError):
                path.unlink()
    return open_network(_export_to_cache(model, in_channels, path))


def _prune_cache(cache_dir: Path) -> None:
    """Delete all but the :data:`CACHE_ENTRIES` most recently used exports (every fine-tuned
    version of a model adds one)."""
    entries = sorted(cache_dir.glob("*.onnx"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[CACHE_ENTRIES:]:
        old.unlink(missing_ok=True)


class OnnxNetwork:
    """Callable like the torch model on CPU tensors: (B, C, H, W) float -> (B, K, H, W) logits."""

    def __init__(self, onnx_bytes: bytes, multiple: int, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads must not spin: the app's UI thread shares these cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No memory arena: buffers are freed after each run, so peak memory stays that of one
        # batch (the arena keeps the largest ever seen; ~2% slower without it here).
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(onnx_bytes, options,
                                            providers=["CPUExecutionProvider"])
        self.multiple = multiple

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        x, h, w = pad_to_multiple(x.contiguous(), self.multiple)
        (logits,) = self.session.run(None, {"image": x.numpy()})
        return torch.from_numpy(np.ascontiguousarray(logits[..., :h, :w]))


def onnx_network(model: nn.Module, in_channels: int, threads: int | None = None,
                 cache_dir: Path | None = None) -> OnnxNetwork | None:
    """ONNX Runtime version of an (eval, BatchNorm-folded) model, or None where not possible."""
    if not hasattr(model, "forward_padded") or not onnxruntime_available():
        return None
    try:
        multiple, threads = int(model.size_multiple), threads or torch.get_num_threads()
        return _open_cached_or_export(model, in_channels, cache_dir,
                                      lambda data: OnnxNetwork(data, multiple, threads))
    except Exception as exc:  # noqa: BLE001 - any exporter/runtime failure: PyTorch still works
        log.warning("ONNX Runtime not used, PyTorch runs the model instead: %s", exc)
        return None
