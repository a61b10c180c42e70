"""Benchmark of the numpy side of mask editing: one brush segment, a whole stroke, its undo.

    python bench/editing_core.py            # table
    python bench/editing_core.py --json     # machine-readable

For every mask size (1 MP = 1000x1000, 24 MP = 6000x4000) and brush diameter (20, 100 px) it
times ``brush_segment`` + ``MaskDocument.apply`` for segments as a mouse produces them (random
position and direction, ``--move`` px long), then the end of a 200-segment stroke (merge into
one undo step) and undoing it. The view refresh is measured separately in the GUI bench.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

import numpy as np

from unet_desktop.core.editing.brush import brush_segment
from unet_desktop.core.editing.document import MaskDocument
from unet_desktop.core.labels import binary_scheme

MASKS = {"1 MP": (1000, 1000), "24 MP": (4000, 6000)}
SIZES = (20, 100)


def _ms(seconds: list[float]) -> dict[str, float]:
    return {
        "median_ms": round(statistics.median(seconds) * 1e3, 4),
        "worst_ms": round(max(seconds) * 1e3, 4),
    }


def bench_case(shape: tuple[int, int], size: int, move: float, segments: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    mask = np.zeros(shape, np.uint8)
    doc = MaskDocument("bench", mask[..., None], mask, binary_scheme())
    height, width = shape
    x, y = width / 2, height / 2
    angle = 0.0
    doc.begin_stroke("Brush stroke")
    seg_times = []
    for i in range(segments):
        angle += rng.normal(0, 0.4)
        nx = min(max(x + move * math.cos(angle), 0), width - 1)
        ny = min(max(y + move * math.sin(angle), 0), height - 1)
        value = 255 if i % 50 < 40 else 0  # mostly painting, sometimes over painted pixels
        start = time.perf_counter()
        doc.apply(brush_segment(doc.mask, (x, y), (nx, ny), size, value))
        seg_times.append(time.perf_counter() - start)
        x, y = nx, ny
    start = time.perf_counter()
    doc.end_stroke()
    end_stroke = time.perf_counter() - start
    start = time.perf_counter()
    doc.undo()
    undo = time.perf_counter() - start
    return {
        "segment": _ms(seg_times),
        "end_stroke_ms": round(end_stroke * 1e3, 3),
        "undo_ms": round(undo * 1e3, 3),
        "step_kb": round(doc.history.nbytes / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--segments", type=int, default=200, help="segments per stroke")
    parser.add_argument("--move", type=float, default=12.0, help="segment length in px")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows = []
    for name, shape in MASKS.items():
        for size in SIZES:
            result = bench_case(shape, size, args.move, args.segments, args.seed)
            rows.append({"mask": name, "brush": size, **result})
    if args.json:
        print(json.dumps({"segments": args.segments, "move_px": args.move, "rows": rows}, indent=1))
        return 0
    print(f"brush segment of {args.move:g} px, {args.segments} segments per stroke")
    header = f"{'mask':>6} {'brush':>5} {'median ms':>10} {'worst ms':>9} "
    print(header + f"{'end stroke ms':>14} {'undo ms':>8} {'step KB':>8}")
    for r in rows:
        print(
            f"{r['mask']:>6} {r['brush']:>5} {r['segment']['median_ms']:>10.3f} "
            f"{r['segment']['worst_ms']:>9.3f} {r['end_stroke_ms']:>14.2f} "
            f"{r['undo_ms']:>8.2f} {r['step_kb']:>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
