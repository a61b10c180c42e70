"""Brush painting latency in the real canvas: one segment applied and shown on screen.

For each image size, brush size and zoom, a stroke of N short segments (10 px apart, as a fast
mouse delivers them) is painted with the core's BrushTool on a MaskDocument whose listener
updates the canvas's mask layer by bbox; each sample times ``tool.move`` plus the event
processing that repaints the view (Paint events on the viewport are counted to prove that a
repaint happened for every segment). Runs offscreen by default.

    python bench/editing.py [--segments 200] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

SIZES = {"1 MP": (1000, 1000), "24 MP": (4000, 6000)}  # (height, width)
BRUSHES = (20, 100)
ZOOMS = ("fit", "100%")
TARGET_MS = 16.0
RADIUS = 350  # px: the stroke stays inside the 1200x800 view at 100 %


def _paint_counter(widget):
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = PaintCounter()
    widget.installEventFilter(counter)
    return counter


def stroke_points(center: tuple[float, float], radius: float, n: int, step: float = 10.0):
    """Points on a circle ``step`` px apart."""
    cx, cy = center
    dtheta = step / radius
    return [(cx + radius * math.cos(i * dtheta), cy + radius * math.sin(i * dtheta))
            for i in range(n + 1)]


def measure(app, canvas, shape, brush: int, zoom: str, segments: int) -> dict:
    from PySide6.QtCore import QRectF

    from unet_desktop.core.editing.document import MaskDocument
    from unet_desktop.core.editing.tools import BrushTool
    from unet_desktop.core.labels import trimap_scheme

    h, w = shape
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    mask = np.full((h, w), 2, np.uint8)
    scheme = trimap_scheme()
    document = MaskDocument("bench", image, mask, scheme)
    canvas.set_content(image, mask, scheme)
    center = (w / 2, h / 2)
    if zoom == "100%":
        vw, vh = canvas.viewport().width(), canvas.viewport().height()
        canvas.view_box.setRange(QRectF(center[0] - vw / 2, center[1] - vh / 2, vw, vh),
                                 padding=0)
    document.add_listener(canvas.update_mask_region)
    for _ in range(3):
        app.processEvents()
    tool = BrushTool(document, size=brush, value=1)
    points = stroke_points(center, RADIUS, segments)
    counter = _paint_counter(canvas.viewport())
    tool.press(*points[0])
    app.processEvents()
    times = []
    painted = 0
    for x, y in points[1:]:
        before = counter.count
        t0 = time.perf_counter()
        tool.move(x, y)
        app.processEvents()
        times.append(time.perf_counter() - t0)
        painted += counter.count > before
    tool.release(*points[-1])
    canvas.viewport().removeEventFilter(counter)
    ms = sorted(t * 1000 for t in times)
    return {
        "image": f"{w}x{h}",
        "megapixels": round(w * h / 1e6, 1),
        "brush_px": brush,
        "zoom": zoom,
        "view_zoom": round(canvas.zoom(), 3),
        "segments": len(times),
        "repainted_segments": painted,
        "median_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3),
        "worst_ms": round(ms[-1], 3),
    }


def measure_baseline(app, shape, samples: int) -> dict:
    """The naive refresh this design avoids: the whole mask recoloured and handed to a
    pyqtgraph ImageItem (``setImage``) after each segment."""
    import pyqtgraph as pg

    from unet_desktop.core.labels import trimap_scheme

    h, w = shape
    mask = np.full((h, w), 2, np.uint8)
    lut = trimap_scheme().palette_rgba(128)
    view = pg.GraphicsView()
    box = pg.ViewBox(lockAspect=True, invertY=True)
    view.setCentralItem(box)
    item = pg.ImageItem(axisOrder="row-major")
    box.addItem(item)
    view.resize(1200, 800)
    view.show()
    item.setImage(lut[mask], autoLevels=False, levels=(0, 255))
    app.processEvents()
    times = []
    for i in range(samples):
        mask[100 + i, 100:120] = 1
        t0 = time.perf_counter()
        item.setImage(lut[mask], autoLevels=False, levels=(0, 255))
        app.processEvents()
        times.append((time.perf_counter() - t0) * 1000)
    view.close()
    return {"image": f"{w}x{h}", "samples": samples,
            "median_ms": round(statistics.median(times), 3), "worst_ms": round(max(times), 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--onscreen", action="store_true", help="use the real display")
    args = parser.parse_args(argv)
    if not args.onscreen:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.editing.canvas import Canvas

    app = create_application()
    canvas = Canvas()
    canvas.resize(1200, 800)
    canvas.show()
    app.processEvents()
    rows = [
        measure(app, canvas, shape, brush, zoom, args.segments)
        for shape in SIZES.values() for brush in BRUSHES for zoom in ZOOMS
    ]
    baseline = measure_baseline(app, SIZES["24 MP"], 5)
    result = {"target_median_ms_24mp": TARGET_MS, "platform": app.platformName(), "rows": rows,
              "baseline_full_setimage": baseline}
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    print(f"Brush segment + view refresh ({args.segments} segments each, "
          f"Qt platform {app.platformName()}, canvas 1200x800)")
    head = f"{'image':>10} {'brush':>6} {'zoom':>6} {'median ms':>10} {'p95 ms':>8} {'worst ms':>9}"
    print(head + "  repainted")
    for r in rows:
        print(f"{r['image']:>10} {r['brush_px']:>6} {r['zoom']:>6} {r['median_ms']:>10.2f} "
              f"{r['p95_ms']:>8.2f} {r['worst_ms']:>9.2f}  {r['repainted_segments']}/{r['segments']}")
    big = [r["median_ms"] for r in rows if r["megapixels"] > 20]
    verdict = "meets" if max(big) <= TARGET_MS else "misses"
    print(f"24 MP: worst median {max(big):.2f} ms, {verdict} the {TARGET_MS:.0f} ms target")
    print(f"baseline, whole-image ImageItem.setImage per segment on {baseline['image']}: "
          f"median {baseline['median_ms']:.1f} ms, worst {baseline['worst_ms']:.1f} ms "
          f"({baseline['median_ms'] / max(big):.0f}x slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
