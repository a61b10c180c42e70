"""Model files as the window and the CLI handle them: an atomic copy, and an ONNX export checked
with onnxruntime (no Qt; ``unet-desktop export`` and Model > Export to ONNX share it).

The ONNX graph takes a normalised float32 input (batch, C, height, width) with height and width
multiples of the model's size multiple and returns logits (batch, classes, height, width).
BatchNorm is folded into the convolutions; the model's metadata is stored in the ONNX file's
metadata as JSON under ``unet_desktop_meta``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.io.atomic import atomic_write

CHECK_TOLERANCE = 1e-3  # max |logit difference| allowed, relative to the logits' scale


def copy_model_file(source: Path, target: Path) -> Path:
    """Copy a model file atomically (the target is whole or untouched)."""
    if source.resolve() == target.resolve():
        return target
    if not source.is_file():
        raise ModelFileError(source, "no such file")
    with source.open("rb") as src:
        atomic_write(target, lambda dst: shutil.copyfileobj(src, dst, 1 << 20))
    return target


def export_onnx(model, meta, out: Path, opset: int = 17):
    """Write the BN-folded, unpadded network to ``out``; returns that network (for the check)."""
    import onnx

    from unet_desktop.ml.inference.onnx_engine import Unpadded, export_bytes
    from unet_desktop.ml.models.fuse import fold_batchnorm

    folded = fold_batchnorm(model)[0].eval()
    proto = onnx.load_from_string(export_bytes(folded, meta.in_channels, opset))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "unet_desktop_meta", json.dumps(meta.to_dict())
    onnx.checker.check_model(proto)
    onnx.save(proto, str(out))
    return Unpadded(folded).eval()


def check_onnx(net, meta, out: Path, multiple: int) -> float:
    """Max |difference| of the logits (torch vs onnxruntime) on a non-square random input."""
    import numpy as np
    import onnxruntime
    import torch

    x = torch.randn(2, meta.in_channels, 2 * multiple, 3 * multiple)
    with torch.inference_mode():
        expected = net(x).numpy()
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x.numpy()})[0]
    return float(np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max())))


def export_onnx_file(source: Path, target: Path) -> str:
    """Export a model file to ONNX and check it with onnxruntime when installed; a report line.

    Raises ``RuntimeError`` without the onnx package or when onnxruntime disagrees."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("exporting to ONNX needs the onnx package: "
                           "pip install 'unet-desktop[onnx]'") from exc
    from unet_desktop.ml.models.modelfile import load_model_file

    model, meta = load_model_file(source)
    net = export_onnx(model, meta, target)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return f"Exported {target.name} (onnxruntime is not installed: not checked)"
    diff = check_onnx(net, meta, target, model.size_multiple)
    if diff > CHECK_TOLERANCE:
        raise RuntimeError(f"{target}: onnxruntime's output differs from torch by {diff:.1e}")
    return f"Exported {target.name}; onnxruntime agrees with torch within {diff:.0e}"
