"""``unet-desktop info MODEL``: what a model file is (metadata only; weights are not loaded)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("info", help="show a model file's metadata",
                              description=__doc__.split(":", 1)[1].strip())
    p.add_argument("model", type=Path, help="model file (.safetensors)")
    p.add_argument("--json", action="store_true", help="print the metadata as JSON")
    p.set_defaults(run=run)


def describe(meta, parameters: int | None) -> list[str]:
    """Human-readable lines for a :class:`~unet_desktop.ml.models.modelfile.ModelMeta`."""
    arch = ", ".join(f"{k}={v}" for k, v in meta.arch.items() if k != "name")
    lines = [
        f"name:          {meta.name or '(unnamed)'}",
        f"version:       {meta.version}" + (f" (from {meta.parent_version})"
                                            if meta.parent_version else ""),
        f"created:       {meta.created or 'unknown'}",
        f"architecture:  {meta.arch.get('name')} ({arch})",
    ]
    if parameters is not None:
        lines.append(f"parameters:    {parameters:,}")
    norm = meta.normalization
    lines += [
        f"input:         {meta.in_channels} channel(s), mean {norm['mean']}, std {norm['std']}",
        f"input rule:    {meta.rule.kind}: {meta.rule.describe()}",
        f"train size:    {meta.train_size} px",
        f"scale:         {meta.scale}" + (" (predicts in native-resolution tiles)"
                                          if meta.scale == "native" else ""),
        f"label scheme:  {meta.scheme.kind}, {meta.scheme.num_classes} classes"
        + (f", ignore value {meta.scheme.ignore_value}"
           if meta.scheme.ignore_value is not None else ""),
    ]
    for i, c in enumerate(meta.scheme.classes):
        lines.append(f"  {i}: {c.name:<16} value {c.value:<3} colour #{bytes(c.color).hex()}")
    if meta.description:
        lines.append(f"description:   {meta.description}")
    for title, values in (("training data", meta.data_summary), ("metrics", meta.metrics)):
        if values:
            lines.append(f"{title}:")
            lines += [f"  {k}: {_short(v)}" for k, v in values.items()]
    return lines


def _short(value: object, keep: int = 3) -> object:
    """A long list or mapping (validation keys, mask hashes, history) as its length and first
    items; ``--json`` prints it whole."""
    if isinstance(value, dict) and len(value) > 2 * keep:
        value = [f"{k}: {v}" for k, v in value.items()]
    if isinstance(value, list) and len(value) > 2 * keep:
        head = ", ".join(str(v) for v in value[:keep])
        if len(head) > 100:
            head = head[:97] + "..."
        return f"{len(value)} items: {head}, ... (--json lists all)"
    return value


def run(args: argparse.Namespace) -> int:
    from unet_desktop.core.errors import ModelFileError
    from unet_desktop.ml.models.modelfile import read_meta, tensor_shapes

    try:
        meta = read_meta(args.model)
        parameters = None
        if args.model.suffix.lower() == ".safetensors":
            shapes = tensor_shapes(args.model)
            parameters = sum(math.prod(s) for k, s in shapes.items()
                             if not k.endswith(("running_mean", "running_var",
                                                "num_batches_tracked")))
    except ModelFileError as exc:
        print(f"unet-desktop info: error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(meta.to_dict() | {"parameters": parameters}, indent=2))
    else:
        print(f"{args.model}")
        print("\n".join(describe(meta, parameters)))
    return 0
