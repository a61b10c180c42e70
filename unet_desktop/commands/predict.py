"""``unet-desktop predict INPUT --out DIR``: masks for a folder of images (or one image).

Writes ``<stem>.png`` per image in the scheme's stored values (binary 0/255, trimap 1/2/3,
multiclass class indices with a palette). With ``--probs`` also ``<stem>_probs.npy``: float16,
C x H x W, classes in the order of ``unet-desktop info MODEL``. Only images without a mask in
``--out`` are predicted unless ``--overwrite``: a mask this model version wrote (a resumed run),
one another model wrote (an earlier one), a mask file it did not write or one changed since it
wrote it (corrected in another program) is kept, with a warning for all but the first. With
``--overwrite`` every image is predicted again, and a mask of the last two kinds is first copied
into ``DIR/.unet-desktop/replaced/``. A workspace folder (images in ``images/``, as the window,
``train`` and ``evaluate`` open it) is predicted by its layout. Without ``--model``, a folder
whose task has a model in use (the window's fine-tunes) is predicted with it, as the window
does on opening the folder; any other with the shipped starter; a line says which. Exit 0 when
images were predicted (or were already up to date), 2 when the model cannot be loaded or no
image could be predicted (unreadable, or its existing mask kept).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from unet_desktop.cli import fail, int_at_least


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="predict masks for a folder of images",
        description="Predict a mask <stem>.png for every image of a folder (or one image), in "
        "the label scheme's stored values (binary 0/255, trimap 1/2/3, multiclass indices). "
        "Resumable: only images without a mask in the output folder are predicted unless "
        "--overwrite; masks already written by this model version or by another (an earlier "
        "model) are kept, and so is a mask file it did not write or that was changed since it "
        "wrote it, e.g. corrected by hand (a warning says so). Exit 0 when "
        "images were predicted or up to date, 2 when the model cannot be loaded or no image "
        "could be predicted (unreadable, or its existing mask kept).",
    )
    p.add_argument("input", type=Path,
                   help="a folder of images, a workspace folder (its images/ as the window "
                        "opens it), or one image file")
    p.add_argument("--out", type=Path, required=True, help="folder for the <stem>.png masks")
    p.add_argument("--model", type=Path,
                   help="model file (.safetensors); default: the model in use of the folder's "
                        "task (a workspace the window trained a model in), else the shipped "
                        "starter model")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    p.add_argument("--mode", choices=("resize", "tile"), default="resize",
                   help="resize: at the model's training scale (default); "
                        "tile: overlapping tiles at native resolution")
    p.add_argument("--batch-size", type=int, default=4, metavar="N")
    p.add_argument("--tile-size", type=int_at_least(1), default=512, metavar="PX",
                   help="tile side in tile mode (default 512; rounded down to a multiple of "
                        "the model's size step)")
    p.add_argument("--overwrite", action="store_true",
                   help="predict every image again: replace the masks written by this or "
                        "another model version, and those not written by unet-desktop or "
                        "changed since (a copy of each of these is kept in "
                        "DIR/.unet-desktop/replaced/)")
    p.add_argument("--probs", action="store_true",
                   help="also write <stem>_probs.npy (float16, C x H x W)")
    p.add_argument("--tta", action="store_true", help="average over flips (3x slower)")
    p.set_defaults(run=run)


def _fail(message: str) -> int:
    return fail("predict", message)


class FileTally:
    """What happened to each input file. A multi-page TIFF is predicted slice by slice into one
    mask stack: it counts as one image, predicted when any slice was (its stack is written)."""

    def __init__(self) -> None:
        self.statuses: dict[Path, set[str]] = {}  # image file -> the statuses of its slices
        self.slices: dict[str, int] = {"predicted": 0, "skipped": 0, "failed": 0}
        self.up_to_date: set[Path] = set()  # files skipped as already predicted by this model
        self.other_model: set[Path] = set()  # files whose mask another model wrote, kept
        self.beyond_range: set[Path] = set()  # files warned of as beyond the model's range

    def add(self, item) -> str | None:
        """Count ``item``; the warning to print about it, if any (once per file)."""
        from unet_desktop.ml.inference.batch_folder import OTHER_MODEL, UP_TO_DATE

        first = item.image_path not in self.statuses
        self.statuses.setdefault(item.image_path, set()).add(item.status)
        self.slices[item.status] += 1
        if item.status == "failed":
            return f"skipped {item.reason}"
        if item.status == "predicted":  # a reason: beyond the model's range (once per file)
            if not item.reason or item.image_path in self.beyond_range:
                return None
            self.beyond_range.add(item.image_path)
            return f"{item.image_path.name}: predicted, but {item.reason}"
        if item.status != "skipped":
            return None
        if item.reason == UP_TO_DATE:
            self.up_to_date.add(item.image_path)
            return None
        if OTHER_MODEL in item.reason:  # said once for all (:meth:`kept_note`)
            self.other_model.add(item.image_path)
            return None
        return f"skipped {item.image_path.name}: {item.reason}" if first else None

    def files(self, status: str) -> int:
        from unet_desktop.ml.inference.batch_progress import files_with

        return files_with(self.statuses, status)

    def kept_note(self) -> str | None:
        """The warning about the masks another model version wrote, kept (None: there were none)."""
        n = len(self.other_model)
        if not n:
            return None
        return (f"{n} image{'s' * (n != 1)} kept the mask{'s' * (n != 1)} another model version "
                "predicted (--overwrite predicts them again)")

    def summary(self) -> str:
        """``2 predicted, 0 skipped, 0 failed of 2 images`` (failed: not read, or its mask not
        written; each named in a warning), and the slices if any image was a stack."""
        n = len(self.statuses)
        text = (f"{self.files('predicted')} predicted, {self.files('skipped')} skipped, "
                f"{self.files('failed')} failed of {n} image{'s' * (n != 1)}")
        if sum(self.slices.values()) == n:  # no stack
            return text
        return (f"{text} (slices: {self.slices['predicted']} predicted, "
                f"{self.slices['skipped']} skipped, {self.slices['failed']} failed)")


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from unet_desktop.core.errors import ModelFileError, UnetDesktopError
    from unet_desktop.ml.inference.batch_job import BatchSettings, batch_predictor, run_batch

    if args.batch_size < 1:
        return _fail(f"--batch-size must be >= 1, got {args.batch_size}")
    if not args.input.exists():
        return _fail(f"{args.input}: no such file or folder")
    layout = _workspace_layout(args.input)
    if layout is not None:
        print(f"{args.input}: a workspace folder ({layout}): predicting its images as the "
              "window, train and evaluate read them", file=sys.stderr)
    try:
        model_path, which = _model_to_use(args.input, args.model)
    except ValueError as exc:
        return _fail(str(exc))
    settings = BatchSettings(
        args.input, model_path, args.out, args.mode, args.tta, args.overwrite, args.device,
        batch_size=args.batch_size, tile_size=args.tile_size, write_probs=args.probs,
        by_layout=layout is not None)
    try:
        predictor = batch_predictor(
            settings, notify=lambda message: tqdm.write(f"warning: {message}", file=sys.stderr))
    except (ModelFileError, ValueError) as exc:
        return _fail(f"cannot load the model: {exc}")
    if which:
        print(which, file=sys.stderr)
    if args.mode == "tile" and args.tile_size < predictor.multiple:
        return _fail(f"--tile-size {args.tile_size} is smaller than this model's size step: "
                     f"tiles must be at least {predictor.multiple} px")
    for note in _parts_not_read(args.input, layout is not None):
        tqdm.write(f"warning: {note}", file=sys.stderr)
    try:
        last = None
        bar = None
        tally = FileTally()
        for progress in run_batch(settings, predictor):
            if bar is None:
                bar = tqdm(total=progress.total, unit="img", file=sys.stderr, dynamic_ncols=True)
            bar.update(progress.done - bar.n)
            for item in progress.results:
                warning = tally.add(item)
                if warning:
                    tqdm.write(f"warning: {warning}", file=sys.stderr)
            last = progress
        if bar is not None:
            bar.close()
        if tally.kept_note():
            tqdm.write(f"warning: {tally.kept_note()}", file=sys.stderr)
    except (OSError, UnetDesktopError, ValueError) as exc:
        if bar is not None:
            bar.close()
        if tally.statuses:  # what was done before the error
            print(f"{tally.summary()} -> {args.out} (then stopped: see the error)")
        return _fail(str(exc))
    print(f"{tally.summary()} in {last.elapsed_s:.1f} s -> {args.out}")
    if last.total == 0:
        return _fail(f"{args.input}: no images found" + (f" ({layout})" if layout else ""))
    if tally.files("predicted") == 0 and not tally.up_to_date:
        return _fail("no image could be predicted" + (
            " (existing masks kept: see the warnings above)" if tally.files("skipped") else ""))
    return 0


def _model_to_use(path: Path, model: Path | None) -> tuple[Path | None, str]:
    """The model file to predict ``path`` with (None: the shipped starter) and, without
    ``--model``, the line saying which and why: the model in use of the folder's task, as the
    window loads it on opening the folder, else the shipped starter. ``ValueError`` when the
    task's model file is missing (the starter's classes are not the task's)."""
    from unet_desktop.core.folder.task import TaskError, model_file
    from unet_desktop.core.io.paths import default_model_path

    if model is not None:
        return model, ""
    starter = f"no --model: predicting with the shipped starter model {default_model_path().name}"
    try:
        found = _task_of(path)
    except TaskError as exc:
        return None, f"{starter} (the folder's task file cannot be read: {exc})"
    if found is None:
        return None, f"{starter} (the folder has no task with a model of its own)"
    root, task = found
    if task.model is None:
        return None, f"{starter} (the folder's task {task.name!r} has no model in use yet)"
    in_use = model_file(root, task.model)
    if not in_use.is_file():
        raise ValueError(f"{in_use}: the model in use of the folder's task {task.name!r} is "
                         "missing; give one with --model")
    return in_use, (f"no --model: predicting with the model in use of the folder's task "
                    f"{task.name!r}: {in_use}")


def _task_of(path: Path):
    """(root, task) of the workspace whose images ``path`` is (the folder, its ``images/``, or
    a file in either); None when that folder has no task. Raises ``TaskError``."""
    from unet_desktop.core.folder.layouts import scan_folder
    from unet_desktop.core.folder.task import load_task
    from unet_desktop.core.io.paths import same_folder

    folder = path if path.is_dir() else path.parent
    roots = [folder]
    try:
        if same_folder(scan_folder(folder.parent).image_dir, folder):
            roots.append(folder.parent)  # DATA/images: the workspace is DATA
    except OSError:
        pass
    for root in roots:
        task = load_task(root)
        if task is not None:
            return root, task
    return None


def _parts_not_read(path: Path, by_layout: bool) -> list[str]:
    """What of the image files predicted from ``path`` is not read (a TIFF's series beyond the
    first, pages of another size), one line per file naming it; the window's folder warnings
    say the same."""
    from unet_desktop.core.folder.layouts import scan_folder
    from unet_desktop.core.io.unread_parts import parts_not_read
    from unet_desktop.ml.inference.batch_folder import list_images

    try:
        if not path.is_dir():
            files = [path]
        elif by_layout:
            files = [pair.image_path for pair in scan_folder(path).pairs]
        else:
            files = list_images(path)
    except OSError:  # unreadable: predicting it says why
        return []
    return parts_not_read(files)


def _workspace_layout(path: Path) -> str | None:
    """How a workspace folder ``path`` keeps its images, when they are not simply its own image
    files (e.g. "images in images/, masks in masks/"); None for a folder of images or a file.
    Such a folder is predicted by its layout, as the window, ``train`` and ``evaluate`` read it."""
    from unet_desktop.core.folder.layouts import scan_folder

    if not path.is_dir():
        return None
    try:
        scan = scan_folder(path)
    except OSError:  # unreadable: listing its files says why
        return None
    if scan.layout == "flat":
        return None
    return f"images in {scan.image_dir.name}/" if scan.image_dir != path else f"{scan.layout} layout"
