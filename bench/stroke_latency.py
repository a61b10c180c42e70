"""Stroke -> updated prediction in the real window (``bench/ui_latency.py --strokes N``).

A sparse binary task ("membrane"/"cell", 128 unlabeled) on a copy of ISBI slices (512 x 512);
the main window, offscreen, without a model (nothing else runs on the worker), paints strokes of
the simulated user (issue 30's protocol: up to 12 px, 5 px wide, alternately in each class's
region) through the canvas's own tool signals, pauses ``--stroke-pause`` seconds after each, and
measures the time from the end of a stroke to the prediction from the strokes shown
(``gui.model.live_prediction``), while a 5 ms UI probe records the event loop's gaps.
"""

from __future__ import annotations

import os
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
        dwell(args.settle)  # the window's start-up (the worker's torch import) may end first
        probe.start()
        tracer = None
        if args.trace:
            from ui_stall_trace import StallTracer

            tracer = StallTracer(lambda: probe._last)
            tracer.start()
        load_before, cpu_before, wall_before = os.getloadavg()[0], time.process_time(), \
            time.perf_counter()
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
        cpu_s, wall_s = time.process_time() - cpu_before, time.perf_counter() - wall_before
        stalls = tracer.stop() if tracer is not None else None
        labelled = float((win.session.document.mask != 128).mean())
        win.close()
        app.processEvents()
        return {"image": key, "size": list(cell.shape), "strokes": args.strokes,
                "earlier_strokes": args.prefill,
                "stroke_pause_s": args.stroke_pause, "settle_s": args.settle,
                "labelled_fraction": round(labelled, 4),
                # the first includes loading the ML modules and the slice's filter features
                "first_stroke_ms": latencies[0] if latencies else None,
                "stroke_to_prediction_ms": stats(latencies[1:]), "gaps_ms": stats(gaps),
                "missed": args.strokes - len(latencies),
                # the whole process (UI, classifier threads) while the measured strokes ran
                "process_cpu_s": round(cpu_s, 2), "wall_s": round(wall_s, 2),
                "cpu_s_per_stroke": round(cpu_s / max(1, args.strokes), 3),
                "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                **({"stalls": stalls[:5]} if stalls is not None else {}),
                "targets": {"stroke_p95_ms": 3000.0, "gap_p99_ms": 50.0}}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def strokes_table(result: dict) -> str:
    """The stroke run as a few lines (``--json`` prints all of it)."""
    lat, gaps = result["stroke_to_prediction_ms"], result["gaps_ms"]
    lines = [(f"{result['image']} {result['size'][0]}x{result['size'][1]}, "
             f"{result['labelled_fraction']:.1%} painted, {result['strokes']} measured strokes "
             f"after {result['earlier_strokes']}, pause {result['stroke_pause_s']} s, "
              f"settled {result['settle_s']} s"),
             f"{'':<34}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'n':>6}",
             (f"{'stroke -> prediction shown':<34}{lat.get('p50', 0):>9.0f}{lat.get('p95', 0):>9.0f}"
             f"{lat.get('p99', 0):>9.0f}{lat.get('max', 0):>9.0f}{lat['n']:>6}"),
             (f"{'UI event-loop interval (5 ms)':<34}{gaps['p50']:>9.1f}{gaps['p95']:>9.1f}"
             f"{gaps['p99']:>9.1f}{gaps['max']:>9.1f}{gaps['n']:>6}"),
             (f"first stroke (loads the classifier, features): {result['first_stroke_ms']:.0f} ms;"
             f" missed {result['missed']}"),
             (f"process CPU {result['process_cpu_s']} s in {result['wall_s']} s "
             f"({result['cpu_s_per_stroke']} s per stroke); load average "
             f"{result['load_average'][0]} -> {result['load_average'][1]}")]
    for stall in result.get("stalls", []):
        lines.append(f"stall {stall['ms']} ms (watchdog late {stall['watchdog_late_ms']} ms): "
                     f"UI {stall['ui_thread'][:1]}; others {stall['other_threads'][:2]}")
    targets = result["targets"]
    lines.append(f"target stroke p95 <= {targets['stroke_p95_ms']:.0f} ms: "
                 f"{'met' if lat.get('p95', 1e9) <= targets['stroke_p95_ms'] else 'MISSED'}; "
                 f"UI gap p99 <= {targets['gap_p99_ms']:.0f} ms: "
                 f"{'met' if gaps['p99'] <= targets['gap_p99_ms'] else 'MISSED'}")
    return "\n".join(lines)
