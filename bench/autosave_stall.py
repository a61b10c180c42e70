"""Benchmark: how long an autosave holds the window, by image size.

For each size an editing session (offscreen) opens a generated gray image, changes its mask
(one undo step, as a stroke does) and lets the autosave timer fire; a 5 ms timer on the UI thread
records the longest gap between its ticks from the edit until the autosave is in the recovery
journal. Baseline, measured in the same run on the same images: the same autosave written on the
UI thread (how the app wrote it before ``gui.editing.journal_writer``). Median of ``--runs``.

    QT_QPA_PLATFORM=offscreen python bench/autosave_stall.py [--sizes 512x512 4000x3000 6000x4000]
        [--runs 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from machine_info import cpu_name
from PIL import Image

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def one_autosave(app, session, journal_file, on_ui_thread: bool, run: int) -> dict:
    """Longest UI gap (ms) from an edit until its autosave is recorded, and that wait (ms)."""
    from PySide6.QtCore import QTimer

    document = session.document
    mask = document.mask.copy()
    mask[run * 7: run * 7 + 40, :] = 0 if run % 2 else 255  # a new mask each run
    session.autosave._save_fn = session.autosave_now if on_ui_thread \
        else session._autosave_in_background
    before = journal_file.stat().st_mtime_ns if journal_file.exists() else 0
    ticks = [time.monotonic()]
    probe = QTimer()
    probe.timeout.connect(lambda: ticks.append(time.monotonic()))
    probe.start(5)
    started = time.monotonic()
    document.replace_mask(mask, "bench edit")
    while not (journal_file.exists() and journal_file.stat().st_mtime_ns != before):
        app.processEvents()
        time.sleep(0.001)
        if time.monotonic() - started > 60:
            raise RuntimeError("no autosave within 60 s")
    for _ in range(20):  # the ticks just after the write
        app.processEvents()
        time.sleep(0.005)
    probe.stop()
    return {"gap_ms": 1000 * float(np.diff(ticks).max()),
            "until_written_ms": 1000 * (time.monotonic() - started)}


def run(sizes: list[tuple[int, int]], runs: int) -> list[dict]:
    from PySide6.QtWidgets import QApplication

    from unet_desktop.core.folder.autosave import RecoveryJournal
    from unet_desktop.gui.editing.session import EditingSession

    app = QApplication.instance() or QApplication([])
    rows = []
    with tempfile.TemporaryDirectory(prefix="autosave-bench-") as tmp:
        journal = RecoveryJournal(Path(tmp) / "recovery")
        for w, h in sizes:
            folder = Path(tmp) / f"images-{w}x{h}"
            folder.mkdir()
            rng = np.random.default_rng(0)
            Image.fromarray(rng.integers(0, 255, (h, w), dtype=np.uint8)).save(folder / "a.png")
            session = EditingSession(journal=journal, autosave_delay_ms=20)
            session.open_workspace(folder)
            assert session.open_image(next(iter(session.workspace)).key)
            row = {"size": f"{w}x{h}", "megapixels": round(w * h / 1e6, 1)}
            for name, on_ui in (("ui_thread", True), ("writer_thread", False)):
                results = [one_autosave(app, session, journal.journal_path, on_ui, r)
                           for r in range(runs)]
                row[f"{name}_gap_ms"] = round(statistics.median(r["gap_ms"] for r in results), 1)
                row[f"{name}_written_ms"] = round(
                    statistics.median(r["until_written_ms"] for r in results), 1)
            row["gap_ratio"] = round(row["ui_thread_gap_ms"] / row["writer_thread_gap_ms"], 1)
            session.save_all("quit")
            session.shutdown()
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["512x512", "4000x3000", "6000x4000"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    sizes = [tuple(int(v) for v in s.lower().split("x")) for s in args.sizes]
    rows = run(sizes, args.runs)
    result = {"rows": rows, "runs": args.runs, "cpu": cpu_name()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"CPU: {result['cpu']}; median of {args.runs} autosaves per cell")
    print(f"{'image':>10} {'MP':>5} | {'longest UI gap: UI-thread write':>32} | "
          f"{'writer thread':>13} | {'ratio':>5} | written after (UI / writer)")
    for r in rows:
        print(f"{r['size']:>10} {r['megapixels']:>5} | {r['ui_thread_gap_ms']:>29.1f} ms | "
              f"{r['writer_thread_gap_ms']:>10.1f} ms | {r['gap_ratio']:>5} | "
              f"{r['ui_thread_written_ms']:.0f} / {r['writer_thread_written_ms']:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
