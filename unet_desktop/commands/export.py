"""``unet-desktop export MODEL --onnx OUT``: the network as ONNX, checked with onnxruntime.

The ONNX graph takes a normalised float32 input (batch, C, height, width) with height and
width multiples of the model's size multiple (16 for a depth-4 UNet, 32 for a ResNet encoder)
and returns logits (batch, classes, height, width). BatchNorm is folded into the convolutions.
The model's metadata (label scheme, normalisation, version) is stored in the ONNX file's
metadata as JSON under "unet_desktop_meta".
"""

from __future__ import annotations

import argparse
from pathlib import Path

from unet_desktop.cli import fail, int_at_least
from unet_desktop.ml.model_files import (
    OnnxruntimeCheck,
    export_onnx,
    onnxruntime_installed,
    refuse_model_target,
)

MIN_OPSET = 11  # below, the encoder models do not export (nearest upsampling) or their last
# bilinear upsampling is not ONNX's (opset 9-10 Upsample has no align_corners: wrong labels)


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="export a model to ONNX",
                              description="Export the network to ONNX and check it with "
                              "onnxruntime. " + __doc__.split("\n\n")[1].replace("\n", " "))
    p.add_argument("model", type=Path, help="model file (.safetensors)")
    p.add_argument("--onnx", type=Path, required=True, metavar="OUT", help="ONNX file to write")
    p.add_argument("--opset", type=int_at_least(MIN_OPSET), default=17,
                   help=f"ONNX opset (at least {MIN_OPSET}; default 17)")
    p.add_argument("--no-check", action="store_true", help="skip the onnxruntime comparison")
    p.set_defaults(run=run)


def _fail(message: str) -> int:
    return fail("export", message)


def run(args: argparse.Namespace) -> int:
    from unet_desktop.core.errors import ModelFileError
    from unet_desktop.ml.models.modelfile import load_model_file

    try:
        refuse_model_target(args.model, args.onnx)
        model, meta = load_model_file(args.model)
    except ModelFileError as exc:
        return _fail(str(exc))
    check = None if args.no_check or not onnxruntime_installed() \
        else OnnxruntimeCheck(meta, model.size_multiple)
    try:
        export_onnx(model, meta, args.onnx, args.opset, check=check)
    except (OSError, RuntimeError) as exc:
        return _fail(f"{args.onnx}: export failed: {exc}")
    print(f"wrote {args.onnx} (input: float32 batch x {meta.in_channels} x H x W, "
          f"H and W multiples of {model.size_multiple}, normalised)")
    if check is not None:
        print(f"checked with onnxruntime: max relative logit difference {check.difference:.1e}")
    elif not args.no_check:
        print("onnxruntime is not installed: outputs not checked")
    return 0
