"""``unet-desktop export MODEL --onnx OUT``: the network as ONNX, checked with onnxruntime.

The ONNX graph takes a normalised float32 input (batch, C, height, width) with height and
width multiples of the model's size multiple (16 for a depth-4 UNet, 32 for a ResNet encoder)
and returns logits (batch, classes, height, width). BatchNorm is folded into the convolutions.
The model's metadata (label scheme, normalisation, version) is stored in the ONNX file's
metadata as JSON under "unet_desktop_meta".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CHECK_TOLERANCE = 1e-3  # max |logit difference| allowed, relative to the logits' scale


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a model to ONNX",
                              description="Export the network to ONNX and check it with "
                              "onnxruntime. " + __doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("model", type=Path, help="model file (.safetensors)")
    p.add_argument("--onnx", type=Path, required=True, metavar="OUT", help="ONNX file to write")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    p.set_defaults(run=run)


def _fail(message: str) -> int:
    print(f"unet-desktop export: error: {message}", file=sys.stderr)
    return 2


def export_onnx(model, meta, out: Path, opset: int = 17):
    """Write the BN-folded, unpadded network to ``out``; returns that network (for the check)."""
    import onnx

    from unet_desktop.ml.fuse import fold_batchnorm
    from unet_desktop.ml.onnx_engine import Unpadded, export_bytes

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


def run(args: argparse.Namespace) -> int:
    from unet_desktop.core.errors import ModelFileError
    from unet_desktop.ml.modelfile import load_model_file

    try:
        model, meta = load_model_file(args.model)
    except ModelFileError as exc:
        return _fail(str(exc))
    try:
        net = export_onnx(model, meta, args.onnx, args.opset)
    except (OSError, RuntimeError) as exc:
        return _fail(f"{args.onnx}: export failed: {exc}")
    print(f"wrote {args.onnx} (input: float32 batch x {meta.in_channels} x H x W, "
          f"H and W multiples of {model.size_multiple}, normalised)")
    if args.no_check:
        return 0
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("onnxruntime is not installed: outputs not checked")
        return 0
    diff = check_onnx(net, meta, args.onnx, model.size_multiple)
    if diff > CHECK_TOLERANCE:
        return _fail(f"onnxruntime output differs from torch by {diff:.2e} (relative)")
    print(f"checked with onnxruntime: max relative logit difference {diff:.1e}")
    return 0
