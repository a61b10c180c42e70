"""``unet-desktop evaluate DATA --model MODEL``: score a model against a folder's masks.

Predicts every labelled image (corrected/verified; ``--all-masks``: every mask) at its full
resolution and compares with the stored mask, ignored pixels left out: per-class IoU and Dice,
mIoU, mean Dice, pixel accuracy, and for trimaps the Oxford-Pet "pet IoU" (border pixels of the
ground truth ignored, a predicted border counted as pet). ``--val-only`` keeps the images the
model was validated on during training; ``--tta`` averages each prediction over flips, as
``predict --tta`` does; ``--places`` splits the wrong pixels into those on the masks' outlines
(within 1 px) and those inside regions (``ml.error_places``). It says how many of the scored
images the model trained on, and which (as its file records them, ``ml.trained_on``), or that
its file does not record them: on those the figures measure what it learnt, not how it labels
new images.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from unet_desktop.cli import fail


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="score a model against a folder's masks",
                              description=__doc__.split("\n\n")[1])
    p.add_argument("data", type=Path, help="workspace folder (images and masks)")
    p.add_argument("--model", type=Path, required=True, help="model file (.safetensors)")
    p.add_argument("--mode", choices=("resize", "tile"), default="resize")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--ignore", type=int, metavar="V", help="mask value meaning 'not labelled'")
    p.add_argument("--all-masks", action="store_true", help="also masks that are predictions")
    p.add_argument("--val-only", action="store_true",
                   help="only the model's own validation images (from its metadata)")
    p.add_argument("--exclude", action="append", default=[], metavar="PATTERN",
                   help="leave out images whose file name matches this glob (repeatable), "
                        "e.g. the ones a model trained on")
    p.add_argument("--tta", action="store_true", help="average over flips (3x slower)")
    p.add_argument("--places", action="store_true",
                   help="also split the wrong pixels into those within 1 px of an outline of "
                        "the masks and those inside regions")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(run=run)


def _fail(message: str) -> int:
    return fail("evaluate", message)


def _entries(workspace, meta, args: argparse.Namespace) -> list:
    from unet_desktop.ml.training.dataset import training_entries

    entries = training_entries(workspace, all_masks=args.all_masks)
    if args.val_only:
        keys = set(meta.data_summary.get("val_keys") or [])
        if not keys:
            raise ValueError(f"{args.model}: the model records no validation images")
        entries = [e for e in entries if e.key in keys]
    if getattr(args, "exclude", None):
        left_out = {e.key for e in training_entries(workspace, True, args.exclude)}
        kept = [e for e in entries if e.key not in left_out]
        if entries and not kept:
            raise ValueError(f"{workspace.root}: --exclude {' '.join(args.exclude)} left out "
                             f"all {len(entries)} labelled image{'s' * (len(entries) != 1)}"
                             f"{' the model validated on' if args.val_only else ''}")
        entries = kept
    if not entries:
        raise ValueError(f"{workspace.root}: no masks to evaluate against")
    return entries


def evaluate_workspace(predictor, workspace, entries, progress=None, places=None,
                       skipped=None, beyond=None):
    """Summed confusion matrix over ``entries`` -> metrics dict (see ``ml.metrics.summarize``);
    ``places`` (an ``ml.error_places.ErrorPlaces``) counts where the wrong pixels lie. With a
    ``skipped`` list, a pair that cannot be scored is put there as (key, reason) and the rest
    are scored (else the first one raises); ``metrics["images"]`` counts those scored. A
    ``beyond`` dict gets, per image file, why the model sees it saturated (its values beyond
    the range its input rule fixes, ``InputRule.beyond_range``)."""
    import numpy as np

    from unet_desktop.core.errors import FileError
    from unet_desktop.ml.metrics import confusion_matrix, summarize

    scheme = workspace.scheme
    total = np.zeros((scheme.num_classes, scheme.num_classes), dtype=np.int64)
    scored = pixels = 0
    for entry in entries:
        try:
            pair = _scorable_pair(predictor, workspace, entry)
        except (FileError, ValueError) as exc:
            if skipped is None:
                raise
            skipped.append((entry.key, str(exc)))
            continue
        if pair is None:
            continue
        image, truth = pair
        if beyond is not None and entry.image_path not in beyond:
            why = predictor.meta.rule.beyond_range(image)
            if why:
                beyond[entry.image_path] = why
        labels = predictor.predict(image, probs=False).labels
        predicted, true = scheme.to_index(labels), scheme.to_index(truth)
        total += confusion_matrix(predicted, true, scheme.num_classes).numpy()
        pixels += true.size
        if places is not None:
            places.add(predicted, true)
        scored += 1
        if progress is not None:
            progress()
    labelled = float(total.sum()) / pixels if pixels else 1.0  # ignored pixels are not counted
    return {**summarize(total, scheme), "images": scored, "labelled": labelled}


def _with_the_tasks_unlabeled(scheme, task, ignore: int | None):
    """The model's scheme with the unlabeled value of the folder's task (a sparse task's masks
    store it where nothing was painted), when --ignore is not given and the task labels the
    model's classes; None otherwise."""
    from unet_desktop.core.labels import LabelScheme

    if ignore is not None or scheme.ignore_value is not None or task is None:
        return None
    value = task.scheme.ignore_value
    if value is None or not task.scheme.same_value_set(scheme) or value in scheme.stored_values:
        return None
    return LabelScheme(scheme.kind, scheme.classes, value)


def _labelled_note(share: float) -> str:
    """What the figures count when the masks are strokes ('' for full masks)."""
    from unet_desktop.core.labels import STROKES_BELOW

    if share >= STROKES_BELOW:
        return ""
    return (f"the figures above count only the strokes: {share:.1%} of the pixels of these "
            "masks are labelled")


def _trained_part(trained, scored: int) -> str:
    """How many of the ``scored`` images the model trained on, for the summary line."""
    count = len(trained.keys)
    if not trained.recorded:
        return "which of them it trained on is not recorded"
    if count == 0:
        return "none of them images it trained on, by its record"
    return f"{'all' if count == scored else count} of them images it trained on"


def _trained_note(trained, scored: int, meta, args: argparse.Namespace) -> str:
    """The note naming the scored images the model trained on (or that its file does not say)."""
    if not trained.recorded:
        return (f"note: {args.model} does not record which images it trained on: where these "
                "are among them, the figures measure what it learnt, not how it labels new "
                "images")
    if not trained.keys:
        return (f"note: none of the {scored} scored images is among those the model file "
                "records it trained on")
    keys = trained.keys
    names = ", ".join(keys[:3]) + (f", ... ({len(keys) - 3} more; --json lists all)"
                                   if len(keys) > 3 else "")
    who = " (or a model it was fine-tuned from)" if trained.by_content and meta.parent_version \
        else ""
    how = ""
    if trained.by_name:
        how = (" (by its record of their names alone)" if not trained.by_content else
               f" ({len(trained.by_name)} of them by its record of their names alone)")
    held_out = meta.data_summary.get("val_keys")
    held_out = held_out if isinstance(held_out, list) else []
    hint = (f"; --val-only scores only the {len(held_out)} it was validated on"
            if held_out and not args.val_only else "")
    return (f"note: {len(keys)} of the {scored} scored images are images the model{who} "
            f"trained on{how}: {names}; on them the figures measure what it learnt, not how it "
            f"labels new images{hint}")


def _trained_json(trained) -> dict | None:
    """The scored images the model trained on, for --json (None: its file does not say)."""
    if not trained.recorded:
        return None
    return {"images": len(trained.keys), "keys": list(trained.keys),
            "by_name_only": list(trained.by_name)}


def _scorable_pair(predictor, workspace, entry):
    """(image, mask) of ``entry``, None without a mask; raises naming the file what keeps it
    from being scored (an unreadable file, another size, channels the model cannot take)."""
    from unet_desktop.core.errors import MaskError

    image = workspace.load_raw(entry.key)  # the predictor applies its input rule
    truth = workspace.load_mask(entry.key)
    if truth is None:
        return None
    if truth.shape != image.shape[:2]:
        raise MaskError(entry.mask_path, f"mask is {truth.shape[1]}x{truth.shape[0]} but "
                                         f"the image is {image.shape[1]}x{image.shape[0]}")
    predictor.meta.rule.pick_channels(image, entry.image_path)  # a misfit names the file
    return image, truth


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from unet_desktop.core.errors import FileError
    from unet_desktop.core.folder.workspace import Workspace
    from unet_desktop.core.io.model_header import prediction_mode_name
    from unet_desktop.core.io.unread_parts import parts_not_read
    from unet_desktop.core.labels import LabelScheme
    from unet_desktop.ml.error_places import ErrorPlaces
    from unet_desktop.ml.inference.predictor import Predictor
    from unet_desktop.ml.metrics import format_table
    from unet_desktop.ml.models.modelfile import load_model_file
    from unet_desktop.ml.trained_on import trained_on

    try:
        model, meta = load_model_file(args.model)
        scheme = meta.scheme
        if args.ignore is not None:
            scheme = LabelScheme(scheme.kind, scheme.classes, args.ignore)
        workspace = Workspace.open(args.data, scheme)
        task_scheme = _with_the_tasks_unlabeled(scheme, workspace.task, args.ignore)
        if task_scheme is not None:
            print(f"note: unlabeled pixels are {task_scheme.ignore_value}, as the folder's task "
                  f"{workspace.task.name!r} stores them (--ignore says otherwise)",
                  file=sys.stderr)
            workspace = Workspace.open(args.data, task_scheme)
        entries = _entries(workspace, meta, args)
        predictor = Predictor(model, meta, args.device, mode=args.mode, tta=args.tta)
        places = ErrorPlaces() if args.places else None
        skipped: list[tuple[str, str]] = []
        beyond: dict = {}  # image file -> why the model sees it saturated
        with tqdm(total=len(entries), desc="evaluating", unit="image", leave=False,
                  file=sys.stderr) as bar:
            metrics = evaluate_workspace(predictor, workspace, entries, lambda: bar.update(1),
                                         places, skipped, beyond)
    except (ValueError, FileError) as exc:
        return _fail(str(exc))
    for path, why in workspace.skipped:  # what the folder's scan left out, and why
        print(f"warning: skipped {path}: {why}", file=sys.stderr)
    for note in parts_not_read(e.image_path for e in entries):  # e.g. a TIFF's other series
        print(f"warning: {note}", file=sys.stderr)
    for key, why in skipped:
        print(f"warning: not scored {key}: {why}", file=sys.stderr)
    for path, why in beyond.items():
        print(f"warning: {path.name}: scored, but {why}", file=sys.stderr)
    scored = metrics.pop("images")
    if not scored:
        return _fail(f"{args.data}: no image could be scored")
    not_scored = {key for key, _ in skipped}
    trained = trained_on(meta.data_summary, (e for e in entries if e.key not in not_scored))
    print(_trained_note(trained, scored, meta, args), file=sys.stderr)
    if args.json:
        if places is not None:
            metrics["wrong_places"] = places.fractions()
        print(json.dumps({"model": str(args.model), "version": meta.version,
                          "images": scored, "trained_on": _trained_json(trained),
                          "mode": "tile" if predictor.tiled else args.mode,
                          "tta": args.tta, **metrics}, indent=2))
    else:
        print(f"{args.model} (version {meta.version}) on {scored} images of {args.data} "
              f"({_trained_part(trained, scored)}), {prediction_mode_name(args.mode, meta.scale)} mode"
              f"{', flip TTA' if args.tta else ''}")
        note = _labelled_note(metrics.pop("labelled"))
        print(format_table(metrics))
        if note:
            print(note)
        if places is not None:
            print(places.line())
    return 0
