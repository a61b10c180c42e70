"""Benchmark: how long ``Workspace.open`` takes on a large folder, against a naive scan.

Generates folders of N tiny PNG images (default 10,000) in a temporary directory, in several
layouts, with and without masks and with and without a manifest, and times ``Workspace.open``
(median of ``--runs`` runs, warm file-system cache). The baseline, measured in the same run on the
same folder, is the naive approach of opening every image with Pillow to read its size and
checking for its mask with a stat call. Target: under 1 s for 10,000 images.

    python bench/workspace_open.py [--images 10000] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from unet_desktop.core.folder.manifest import Manifest, ManifestRecord, save_manifest
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.labels import binary_scheme

TARGET_S = 1.0


def _png_bytes(values: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(values.astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


IMAGE_BYTES = _png_bytes(np.arange(64).reshape(8, 8) * 4)
MASK_BYTES = _png_bytes((np.arange(64).reshape(8, 8) % 2) * 255)


def _write_all(folder: Path, names: list[str], data: bytes) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(data)


def make_folder(root: Path, layout: str, n: int, with_masks: bool) -> Path:
    """A folder of ``n`` images in ``layout``; masks for all of them if ``with_masks``."""
    stems = [f"img_{i:05d}" for i in range(n)]
    image_dir = root if layout == "flat" else root / "images"
    _write_all(image_dir, [f"{s}.png" for s in stems], IMAGE_BYTES)
    if with_masks:
        mask_dir, suffix = {
            "flat": (root / "masks", ""), "generic": (root / "masks", ""),
            "suffix": (root / "masks", "_mask"), "oxford": (root / "annotations/trimaps", ""),
        }[layout]
        _write_all(mask_dir, [f"{s}{suffix}.png" for s in stems], MASK_BYTES)
    return root


def add_manifest(root: Path) -> None:
    """Record a state, model version and score for every image, as after a batch prediction.

    Written in one go: ``Workspace.set_state`` persists each change at once, which would make
    this set-up quadratic in the number of images.
    """
    ws = Workspace.open(root, scheme=binary_scheme())
    records = {}
    for i, entry in enumerate(ws):
        score = i / len(ws)
        if entry.has_mask:
            state = ImageState.VERIFIED if i % 2 else ImageState.PREDICTED
            records[entry.key] = ManifestRecord(state, "bench-v1", score)
        else:
            records[entry.key] = ManifestRecord(ImageState.UNLABELED, None, score)
    save_manifest(ws.manifest_path, Manifest(ws.scheme, records))


def naive_open(root: Path) -> int:
    """Baseline: list the images, read each one's size with Pillow, stat each mask."""
    image_dir = root / "images" if (root / "images").is_dir() else root
    mask_dir = root / "masks"
    found = 0
    for name in sorted(os.listdir(image_dir)):
        path = image_dir / name
        if not path.is_file():
            continue
        with Image.open(path) as im:
            _ = im.size
        found += (mask_dir / name).exists()
    return found


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(n: int, runs: int, baseline_runs: int) -> list[dict]:
    cases = [  # (layout, masks, manifest)
        ("flat", False, False), ("flat", False, True),
        ("generic", True, False), ("generic", True, True),
        ("suffix", True, False), ("oxford", True, True),
    ]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        folders: dict[tuple[str, bool], Path] = {}
        for layout, masks, manifest in cases:
            root = folders.get((layout, masks))
            if root is None:
                root = make_folder(Path(tmp) / f"{layout}-{masks}", layout, n, masks)
                folders[(layout, masks)] = root
            if manifest:
                add_manifest(root)
            ws = Workspace.open(root)
            assert len(ws) == n and ws.layout == layout, (len(ws), ws.layout)
            t_open = median_time(lambda r=root: Workspace.open(r), runs)
            t_naive = median_time(lambda r=root: naive_open(r), baseline_runs)
            rows.append({
                "layout": layout, "images": n, "masks": masks, "manifest": manifest,
                "open_s": t_open, "naive_s": t_naive, "speedup": t_naive / t_open,
                "within_target": t_open < TARGET_S,
            })
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"Workspace.open, median of runs; baseline = Pillow size + mask stat per image; "
          f"target < {TARGET_S:.0f} s")
    header = f"{'layout':8} {'images':>7} {'masks':>5} {'manifest':>8} {'open ms':>9} " \
             f"{'naive ms':>9} {'speedup':>8}  target"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['layout']:8} {r['images']:7d} {'yes' if r['masks'] else 'no':>5} "
              f"{'yes' if r['manifest'] else 'no':>8} {r['open_s'] * 1e3:9.1f} "
              f"{r['naive_s'] * 1e3:9.1f} {r['speedup']:7.1f}x  "
              f"{'ok' if r['within_target'] else 'SLOW'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000, help="images per folder")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of Workspace.open")
    parser.add_argument("--baseline-runs", type=int, default=3, help="timed runs of the baseline")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--check", action="store_true",
                        help="exit with status 1 if any case misses the target")
    args = parser.parse_args(argv)
    rows = run(args.images, args.runs, args.baseline_runs)
    if args.json:
        print(json.dumps({"target_s": TARGET_S, "results": rows}, indent=1))
    else:
        print_table(rows)
    return 1 if args.check and not all(r["within_target"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
