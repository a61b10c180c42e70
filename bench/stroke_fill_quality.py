"""How good the stroke fill is where it teaches: the error of the pixel classifier's labels on
the scribbled images' own unpainted pixels (a development split: the images scored by
``scribble_loop.py`` take no part), per number of auto-context stages and confidence threshold.

    python bench/stroke_fill_quality.py ../shared/data/isbi2012 --train 2 --stages 1 2 3 \\
        --min-confidence 0 0.7 --shares image balanced
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from scribble_user import first_strokes_of, keys_by_name

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import IGNORE_INDEX
from unet_desktop.ml.strokes.autocontext import autocontext_probabilities


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="folder with full masks (never written)")
    p.add_argument("--train", type=int, default=2, help="images (first by name) scribbled")
    p.add_argument("--stages", type=int, nargs="+", default=[1, 2])
    p.add_argument("--min-confidence", type=float, nargs="+", default=[0.0])
    p.add_argument("--shares", nargs="+", choices=("image", "balanced"), default=["image"],
                   help="the forest's probabilities adjusted to the classes' shares in the "
                        "images (the app's fill) or left as the balanced forest's")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    ws = Workspace.open(args.data)
    keys = keys_by_name(ws)[: args.train]
    images = [ws.load_image(k) for k in keys]
    truths = [ws.scheme.to_index(ws.load_mask(k)) for k in keys]
    n = ws.scheme.num_classes
    labels = [lab for lab, _ in first_strokes_of(truths, n, args.seed)]  # scribble_loop.py's
    print(f"{ws.root}: {keys}; shares | stages | min confidence | wrong (unpainted) | filled | "
          "seconds")
    for shares, stages in [(sh, st) for sh in args.shares for st in args.stages]:
        started = time.monotonic()
        probs = autocontext_probabilities(images, labels, n, args.seed, stages,
                                          image_shares=shares == "image")
        seconds = time.monotonic() - started
        for threshold in args.min_confidence:
            wrong = kept = unpainted = 0
            for pr, t, lab in zip(probs, truths, labels, strict=True):
                open_ = (lab == IGNORE_INDEX) & (t != IGNORE_INDEX)
                sure = open_ & (pr.max(0) >= threshold)
                wrong += int(((pr.argmax(0) != t) & sure).sum())
                kept += int(sure.sum())
                unpainted += int(open_.sum())
            print(f"{shares} | {stages} | {threshold} | {wrong / max(1, kept):.4f} | "
                  f"{kept / max(1, unpainted):.3f} | {seconds:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
