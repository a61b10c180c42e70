"""Benchmark: opening a folder of multi-page TIFF stacks, slices counted from the headers.

Generates ``--stacks`` stacks of ``--pages`` slices (``--size`` square uint8, default
100 x 30 of 128x128) in
``images/`` with a page-aligned mask stack for every other one in ``masks/``, then times
``Workspace.open`` (median of ``--runs``, warm file-system cache) against a baseline measured in
the same run on the same folder: decoding every stack with ``tifffile.imread`` to count its
slices (what reading the pixels would cost). Also times the first slice shown (``load_image`` of
a middle slice). Target: open under 1 s.

    python bench/stack_open.py [--stacks 100] [--pages 30] [--size 128] [--runs 5]
        [--compression none|zlib] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import tifffile
from workspace_open import median_time  # bench/ is on the path when run as a script

from unet_desktop.core.folder.workspace import Workspace

TARGET_S = 1.0


def make_folder(root: Path, stacks: int, pages: int, size: int = 128,
                compression: str | None = None) -> Path:
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    volume = rng.integers(0, 255, (pages, size, size), dtype=np.uint8)
    labels = (volume > 127).astype(np.uint8) * 255
    for i in range(stacks):
        tifffile.imwrite(root / f"images/stack_{i:03d}.tif", volume, compression=compression)
        if i % 2 == 0:
            tifffile.imwrite(root / f"masks/stack_{i:03d}.tif", labels)
    return root


def naive_open(root: Path) -> int:
    """The baseline: decode every stack to count its slices."""
    return sum(tifffile.imread(p).shape[0] for p in sorted((root / "images").iterdir()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=100)
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--size", type=int, default=128, help="slice side in pixels")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compression", choices=("none", "zlib"), default="none",
                        help="how the image stacks are stored (zlib: decoding costs more)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = make_folder(Path(tmp), args.stacks, args.pages, args.size,
                           None if args.compression == "none" else args.compression)
        Workspace.open(root)  # warm the file-system cache
        ws = Workspace.open(root)
        open_s = median_time(lambda: Workspace.open(root), args.runs)
        naive_s = median_time(lambda: naive_open(root), args.runs)
        middle = ws.entries[args.pages // 2].key
        slice_s = median_time(lambda: ws.load_image(middle), args.runs)
        result = {
            "stacks": args.stacks, "pages": args.pages, "size": args.size,
            "compression": args.compression, "entries": len(ws),
            "labelled": sum(e.has_mask for e in ws), "open_s": round(open_s, 4),
            "naive_decode_all_s": round(naive_s, 4), "ratio_naive_over_open":
                round(naive_s / open_s, 2), "first_slice_s": round(slice_s, 4),
            "target_s": TARGET_S, "ok": open_s < TARGET_S,
        }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{result['entries']} slices ({args.stacks} stacks x {args.pages} pages of "
              f"{args.size}x{args.size}, {args.compression}, "
              f"{result['labelled']} labelled): Workspace.open {open_s * 1000:.0f} ms "
              f"(target < {TARGET_S * 1000:.0f} ms), decoding every stack {naive_s * 1000:.0f} "
              f"ms: {result['ratio_naive_over_open']}x; a middle slice loads in "
              f"{slice_s * 1000:.1f} ms")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
