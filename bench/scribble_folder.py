"""Write the simulated user's first strokes as a folder the app and its CLI open: the first N
images of DATA (by name) with masks that label only the stroked pixels, the same strokes
``scribble_loop.py`` draws for the same seed (issue 30's protocol, ``scribble_user``).
Unpainted pixels are stored as 128 (binary) or the scheme's own ignore value.

    python bench/scribble_folder.py ../shared/data/isbi2012 --train 2 --out /tmp/isbi-strokes
    unet-desktop train /tmp/isbi-strokes --scheme binary --ignore 128 --all-masks \\
        --val-fraction 0 --max-minutes 3 --out strokes.safetensors
    unet-desktop evaluate ../shared/data/isbi2012 --model strokes.safetensors \\
        --exclude 'slice_0[01].*' --exclude 'slice_1*'
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from PIL import Image
from scribble_loop import sparse_scheme
from scribble_user import STROKES, first_strokes_of, keys_by_name

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.labels import IGNORE_INDEX


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", type=Path, help="folder with full masks (never written)")
    p.add_argument("--train", type=int, default=2, help="images (first by name) scribbled")
    p.add_argument("--rotate", type=int, default=0,
                   help="as scribble_loop.py's --rotate: scribble the images from the K-th on")
    p.add_argument("--seed", type=int, default=0, help="as scribble_loop.py's --seed")
    p.add_argument("--strokes", type=int, default=STROKES,
                   help="as scribble_loop.py's --strokes (per image and class)")
    p.add_argument("--out", type=Path, required=True, help="new folder (must not exist)")
    args = p.parse_args(argv)
    if args.out.exists():
        p.error(f"{args.out} exists; give a new folder")
    if args.strokes < 1:
        p.error("--strokes must be >= 1")
    ws = Workspace.open(args.data)
    scheme = sparse_scheme(ws.scheme)
    try:
        keys = keys_by_name(ws, args.rotate)[: args.train]
    except ValueError as exc:
        p.error(str(exc))
    # scribble_loop.py's strokes for the same images, seed and --strokes
    drawn = first_strokes_of([ws.scheme.to_index(ws.load_mask(k)) for k in keys],
                             scheme.num_classes, args.seed, args.strokes)
    (args.out / "images").mkdir(parents=True)
    (args.out / "masks").mkdir()
    for key, (labels, _) in zip(keys, drawn, strict=True):
        source = ws.root / key
        shutil.copy2(source, args.out / "images" / source.name)
        stored = scheme.to_stored(labels)
        Image.fromarray(stored).save(args.out / "masks" / (source.stem + ".png"))
        painted = float((labels != IGNORE_INDEX).mean())
        print(f"{args.out / 'masks' / (source.stem + '.png')}: {painted:.1%} of pixels painted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
