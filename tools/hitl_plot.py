"""A PNG of ``bench/hitl_loop.py --json``'s curves: the loop against its baselines.

Each run's score of the prediction every corrected image started from (Dice; mIoU for multi-class
folders), the loop's moving average of the last three and the target. Offscreen Qt, no display:

    python bench/hitl_loop.py ../shared/data/carvana --json > carvana.json
    python tools/hitl_plot.py carvana.json -o docs/images/hitl-carvana.png
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from unet_desktop.core.folder.learning_record import AVERAGE_WINDOW, moving_average

COLORS = {"learn": "#1f77b4", "none": "#7f7f7f", "every10": "#ff7f0e"}
TITLES = {"learn": "learn as I correct", "none": "no learning", "every10": "fine-tune every 10"}


def plot(result: dict, out: Path, title: str = "") -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    from unet_desktop.gui.app import create_application

    create_application()
    pg.setConfigOptions(background="w", foreground="k", antialias=True)
    widget = pg.PlotWidget(title=title or f"{Path(result['data']).name}: the prediction each "
                                          "correction started from")
    widget.addLegend(offset=(-10, -10))
    widget.setLabel("bottom", "corrected image")
    widget.setLabel("left", "Dice" if result["scheme"] != "multiclass" else "mIoU")
    widget.setYRange(0, 1)
    runs = {"learn": result, **result.get("baselines", {})}
    for mode, run in runs.items():
        scores = [p["score"] for p in run["per_image"]]
        xs = list(range(1, len(scores) + 1))
        widget.plot(xs, scores, pen=pg.mkPen(COLORS.get(mode, "#2ca02c"), width=1),
                    symbol="o", symbolSize=6, symbolBrush=COLORS.get(mode, "#2ca02c"),
                    name=TITLES.get(mode, mode))
        if mode == "learn":
            widget.plot(xs, moving_average(scores), pen=pg.mkPen(COLORS[mode], width=3),
                        name=f"learn: average of the last {AVERAGE_WINDOW}")
    widget.addItem(pg.InfiniteLine(result["target"], angle=0, label=f"target {result['target']}",
                                   pen=pg.mkPen("#2ca02c", style=Qt.PenStyle.DashLine)))
    widget.resize(800, 450)
    if not widget.grab().save(str(out)):
        raise OSError(f"{out}: cannot write the PNG")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("json", type=Path, help="the output of bench/hitl_loop.py --json")
    p.add_argument("-o", "--out", type=Path, required=True, help="PNG to write")
    p.add_argument("--title", default="")
    args = p.parse_args(argv)
    try:
        result = json.loads(args.json.read_text())
        plot(result, args.out, args.title)
    except (OSError, ValueError, KeyError) as exc:
        print(f"hitl_plot: error: {args.json}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
