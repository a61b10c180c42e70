"""Model files as the window and the CLI handle them: an atomic copy, and an ONNX export checked
with onnxruntime (no Qt; ``unet-desktop export`` and Model > Export to ONNX share it).

The ONNX graph takes a normalised float32 input (batch, C, height, width) with height and width
multiples of the model's size multiple and returns logits (batch, classes, height, width).
BatchNorm is folded into the convolutions; the model's metadata is stored in the ONNX file's
metadata as JSON under ``unet_desktop_meta``.

Neither ever replaces a model by accident: an export refuses a target that is a model file (the
model's own name picked by a slip), and the window passes the version in use so that a file
rewritten since it was loaded is refused rather than copied as if it were that model.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unet_desktop.core.errors import ModelFileError
from unet_desktop.core.io.atomic import atomic_write, atomic_write_bytes

CHECK_TOLERANCE = 1e-3  # max |logit difference| allowed, relative to the logits' scale


def _check_version(path: Path, expected: str | None, found: str | None = None) -> None:
    """Refuse a file that no longer holds the model version ``expected`` (None: any);
    ``found``: the version read from it already."""
    from unet_desktop.ml.models.modelfile import read_meta

    if expected is None:
        return
    found = found or read_meta(path).version
    if found != expected:
        raise ModelFileError(path, f"the file now holds another model (version {found}), not "
                             f"the one in use (version {expected}); Save As and Export copy the "
                             "file, so they cannot write the model in use (open the file again "
                             "to use the one it holds)")


def copy_model_file(source: Path, target: Path, version: str | None = None) -> Path:
    """Copy a model file atomically (the target is whole or untouched). With ``version``, the
    copy must hold that model version (the one in use), else the target is left untouched."""
    if not source.is_file():
        raise ModelFileError(source, "no such file: the model in use was loaded from it, and "
                             "Save As copies that file" if version else "no such file")
    # Opened before its version is checked: a file replaced after the check (writers replace
    # model files atomically) leaves this handle on the bytes that were checked.
    with source.open("rb") as src:
        _check_version(source, version)
        if source.resolve() != target.resolve():
            atomic_write(target, lambda dst: shutil.copyfileobj(src, dst, 1 << 20))
    return target


def _is_model_file(path: Path) -> bool:
    from unet_desktop.ml.models.modelfile import read_meta

    try:
        read_meta(path)
    except ModelFileError:
        return False
    return True


def refuse_model_target(source: Path, target: Path) -> None:
    """Raise ``ModelFileError`` when writing ``target`` would replace the model ``source`` or
    another model file (an export onto the model's own name destroys it)."""
    if not target.exists():
        return
    if source.exists() and os.path.samefile(source, target):
        raise ModelFileError(target, "this is the model file being exported; writing the ONNX "
                             "there would destroy the model: choose a .onnx name")
    if target.is_file() and _is_model_file(target):
        raise ModelFileError(target, "this is a unet-desktop model file; writing the ONNX there "
                             "would destroy it: choose a .onnx name")


def export_onnx(model, meta, out: Path, opset: int = 17,
                check: Callable[[Any, bytes], None] | None = None):
    """Write the BN-folded, unpadded network to ``out`` atomically; returns that network.

    ``check(network, onnx_bytes)`` runs before anything is written: what it raises leaves
    ``out`` as it was (no file, or the previous one)."""
    import onnx

    from unet_desktop.ml.inference.onnx_engine import Unpadded, export_bytes
    from unet_desktop.ml.models.fuse import fold_batchnorm

    folded = fold_batchnorm(model)[0].eval()
    proto = onnx.load_from_string(export_bytes(folded, meta.in_channels, opset))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "unet_desktop_meta", json.dumps(meta.to_dict())
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    net = Unpadded(folded).eval()
    if check is not None:
        check(net, data)
    atomic_write_bytes(out, data)
    return net


def check_onnx(net, meta, exported: Path | bytes, multiple: int) -> float:
    """Max |difference| of the logits (torch vs onnxruntime) on a non-square random input;
    ``exported``: the ONNX file or its bytes."""
    import numpy as np
    import onnxruntime
    import torch

    x = torch.randn(2, meta.in_channels, 2 * multiple, 3 * multiple)
    with torch.inference_mode():
        expected = net(x).numpy()
    model = exported if isinstance(exported, bytes) else str(exported)
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": x.numpy()})[0]
    return float(np.abs(got - expected).max() / max(1.0, float(np.abs(expected).max())))


def onnxruntime_installed() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class OnnxruntimeCheck:
    """A ``check`` for :func:`export_onnx`: raises ``RuntimeError`` when onnxruntime disagrees
    with torch; :attr:`difference` is what it found."""

    meta: Any
    multiple: int
    difference: float | None = None

    def __call__(self, net, exported: bytes) -> None:
        self.difference = check_onnx(net, self.meta, exported, self.multiple)
        if self.difference > CHECK_TOLERANCE:
            raise RuntimeError(f"onnxruntime's output differs from torch by "
                               f"{self.difference:.1e} (relative); nothing written")


def export_onnx_file(source: Path, target: Path, version: str | None = None) -> str:
    """Export a model file to ONNX and check it with onnxruntime when installed; a report line.

    With ``version``, the file must still hold that model version (the one in use). Raises
    ``ModelFileError`` for a target that is a model file (or a source that changed),
    ``RuntimeError`` without the onnx package or when onnxruntime disagrees (nothing written)."""
    try:
        import onnx  # noqa: F401
    except ImportError as exc:
        raise RuntimeError("exporting to ONNX needs the onnx package: "
                           "pip install 'unet-desktop[onnx]'") from exc
    from unet_desktop.ml.models.modelfile import load_model_file

    refuse_model_target(source, target)
    if version is not None and not source.is_file():
        raise ModelFileError(source, "no such file: the model in use was loaded from it, and "
                             "the export reads that file")
    model, meta = load_model_file(source)
    _check_version(source, version, meta.version)
    if not onnxruntime_installed():
        export_onnx(model, meta, target)
        return f"Exported {target.name} (onnxruntime is not installed: not checked)"
    check = OnnxruntimeCheck(meta, model.size_multiple)
    try:
        export_onnx(model, meta, target, check=check)
    except RuntimeError as exc:
        raise RuntimeError(f"{target}: {exc}") from exc
    return f"Exported {target.name}; onnxruntime agrees with torch within {check.difference:.0e}"
