"""Screenshot of a sparse EM task: strokes, the prediction from the strokes, and the prediction
accepted in a few clicked cells (the Accept prediction here tool, K). Run under X (Xvfb):

    DISPLAY=:93 QT_QPA_PLATFORM=xcb python tools/accept_screenshot.py -o docs/images/tool-accept.png

A copy of ISBI slice 00 in a new sparse binary task ("membrane"/"cell", 128 unlabeled); the
simulated user's strokes of issue 30 (``--strokes`` per class, 5 px wide, up to 12 px long) go
through the canvas's tool signals, as a mouse's would.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def wait(ms: int) -> None:
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--strokes", type=int, default=60, help="strokes per class")
    p.add_argument("--clicks", type=int, default=4, help="cells accepted with a click")
    args = p.parse_args()

    from stroke_latency import stroke_folder

    from unet_desktop.gui.app import create_application
    from unet_desktop.gui.main_window import MainWindow

    tmp = Path(tempfile.mkdtemp(prefix="accept-shot-"))
    key, cell = stroke_folder(tmp / "isbi")
    app = create_application()
    win = MainWindow(load_model=False, ask_for_task=False)
    win.resize(1280, 800)
    win.move(0, 0)
    win.show()
    if not win.open_folder(tmp / "isbi") or win.session.current_key != key:
        raise SystemExit("cannot open the copy of the slice")
    canvas, rng = win.canvas, np.random.default_rng(0)
    regions = [np.argwhere(cv2.erode((cell == c).astype(np.uint8), np.ones((3, 3))))
               for c in (False, True)]
    win.tools.set_tool("brush")
    win.tools.set_size(5)
    for i in range(2 * args.strokes):
        c = i % 2
        win.tools.set_value((0, 255)[c])
        y, x = regions[c][rng.integers(len(regions[c]))]
        angle, length = rng.uniform(0, 2 * np.pi), rng.uniform(0, 12)
        end = (x + length * np.cos(angle), y + length * np.sin(angle))
        canvas.tool_pressed.emit(float(x), float(y))
        canvas.tool_released.emit(float(end[0]), float(end[1]))
    shown: list[str] = []
    win.live_prediction.shown.connect(lambda k, _s: shown.append(k))
    deadline = time.monotonic() + 120
    while not shown and time.monotonic() < deadline:
        wait(100)
    if not shown:
        raise SystemExit("no prediction from the strokes")
    # click the largest predicted cells that hold no stroke of the user's
    labels = win.prediction.shown.prediction.labels
    count, parts, stats, _ = cv2.connectedComponentsWithStats((labels == 255).view(np.uint8))
    painted = win.session.document.mask != 128
    free = [i for i in range(1, count) if not (painted & (parts == i)).any()]
    free.sort(key=lambda i: -stats[i, cv2.CC_STAT_AREA])
    win.tools.set_tool("accept")
    for i in free[:args.clicks]:
        depth = cv2.distanceTransform((parts == i).view(np.uint8), cv2.DIST_L2, 5)
        row, col = np.unravel_index(int(np.argmax(depth)), depth.shape)
        canvas.tool_pressed.emit(col + 0.5, row + 0.5)
        canvas.tool_released.emit(col + 0.5, row + 0.5)
    wait(800)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    app.primaryScreen().grabWindow(0, 0, 0, 1280, 800).save(str(args.out))
    mask = win.session.document.mask
    print(f"saved {args.out}: {(mask != 128).mean():.1%} labelled, {len(free[:args.clicks])} "
          f"cells accepted, undo: {win.session.document.undo_label}")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
