"""Stroke -> updated prediction in the real window (``bench/ui_latency.py --strokes N``).

A sparse binary task ("membrane"/"cell", 128 unlabeled) on a copy of ISBI slices (512 x 512);
the main window, offscreen, without a model (nothing else runs on the worker), paints strokes of
the simulated user (issue 30's protocol: up to 12 px, 5 px wide, alternately in each class's
region) through the canvas's own tool signals, pauses ``--stroke-pause`` seconds after each, and
measures the time from the end of a stroke to the prediction from the strokes shown
(``gui.model.live_prediction``), while a 5 ms UI probe records the event loop's gaps.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import binary_scheme

ISBI = Path(__file__).resolve().parents[2] / "shared" / "data" / "isbi2012"


def stroke_folder(root: Path) -> tuple[str, np.ndarray]:
    """A flat folder with ISBI slice 00 and a sparse task; the key and its true classes."""
    root.mkdir(parents=True)
    shutil.copy(ISBI / "images" / "slice_00.png", root / "slice_00.png")
    save_task(root, Task("membranes", binary_scheme(("membrane", "cell"), ignore_value=128),
                         scale="native"))
    return "slice_00.png", np.asarray(Image.open(ISBI / "masks" / "slice_00.png")) > 0


def run_strokes(app, args, probe, stats, wait_until, dwell) -> dict:
    import tempfile

    from unet_desktop.gui.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="stroke-latency-"))
    try:
        key, cell = stroke_folder(tmp / "isbi")
        win = MainWindow(load_model=False, ask_for_task=False)
        win.resize(1200, 900)
        win.show()
        if not win.open_folder(tmp / "isbi") or win.session.current_key != key:
            raise RuntimeError("the window did not open the stroke folder")
        shown: list[float] = []
        win.live_prediction.shown.connect(lambda _k, _s: shown.append(time.perf_counter()))
        win.tools.set_tool("brush")
        win.tools.set_size(5)
        rng = np.random.default_rng(0)
        regions = [np.argwhere(cv2.erode((cell == c).astype(np.uint8), np.ones((3, 3))))
                   for c in (False, True)]
        latencies, canvas = [], win.canvas

        def stroke(i: int) -> None:
            value, region = (0, regions[0]) if i % 2 == 0 else (255, regions[1])
            win.tools.set_value(value)
            y, x = region[rng.integers(len(region))]
            angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(0, 12)
            canvas.tool_pressed.emit(float(x), float(y))
            for t in np.linspace(0, 1, 5)[1:]:
                canvas.tool_moved.emit(float(x + t * length * np.cos(angle)),
                                       float(y + t * length * np.sin(angle)))
            canvas.tool_released.emit(float(x + length * np.cos(angle)),
                                      float(y + length * np.sin(angle)))

        for i in range(args.prefill):  # earlier strokes, without pauses (nothing measured)
            stroke(i)
        probe.start()
        for i in range(args.prefill, args.prefill + args.strokes + (args.prefill == 0)):
            before = len(shown)
            stroke(i)
            released = time.perf_counter()
            if i == 0:  # one class painted: nothing to predict yet
                dwell(args.stroke_pause)
                continue
            if wait_until(lambda b=before: len(shown) > b, 60):
                latencies.append((shown[-1] - released) * 1000)
            dwell(args.stroke_pause)
        gaps = probe.stop()
        labelled = float((win.session.document.mask != 128).mean())
        win.close()
        app.processEvents()
        return {"image": key, "size": list(cell.shape), "strokes": args.strokes,
                "earlier_strokes": args.prefill,
                "stroke_pause_s": args.stroke_pause, "labelled_fraction": round(labelled, 4),
                # the first includes loading the ML modules and the slice's filter features
                "first_stroke_ms": latencies[0] if latencies else None,
                "stroke_to_prediction_ms": stats(latencies[1:]), "gaps_ms": stats(gaps),
                "missed": args.strokes - len(latencies),
                "targets": {"stroke_p95_ms": 3000.0, "gap_p99_ms": 50.0}}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
