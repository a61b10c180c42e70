"""``unet-desktop gui [FOLDER] [--model M]`` (also ``unet-desktop [FOLDER]``): open the window."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("gui", help="open the annotation window (the default command)")
    p.add_argument("folder", nargs="?", type=Path, help="folder of images to open")
    p.add_argument("--model", type=Path, metavar="M",
                   help="model file to predict with (default: the one opened last, else the "
                        "shipped model)")
    # crash test hook: paint one stroke after start-up (see unet_desktop.gui.app.run_gui)
    p.add_argument("--test-stroke", help=argparse.SUPPRESS)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.folder is not None and not args.folder.is_dir():
        print(f"unet-desktop: {args.folder}: not a folder", file=sys.stderr)
        return 2
    if args.model is not None and not args.model.is_file():
        print(f"unet-desktop: {args.model}: no such model file", file=sys.stderr)
        return 2
    from unet_desktop.gui.app import run_gui

    return run_gui(args.folder, test_stroke=args.test_stroke, model=args.model)
