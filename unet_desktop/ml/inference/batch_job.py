"""A batch-prediction run without Qt: the window's batch dialog and ``unet-desktop predict``
both build a :class:`BatchSettings`, get the run's predictor from :func:`batch_predictor` and
iterate :func:`run_batch`.

In the window, the run gets its own predictor with its own copy of the network: a device change or an
out-of-memory fallback of the window's model (which moves that model's network) never moves the
batch's network under it, and the other way round (issue 18, item 8).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from unet_desktop.core.io.paths import same_folder
from unet_desktop.ml.inference.prediction_options import PredictionOptions

Protect = Callable[[Path, str], bool]  # (workspace root, image key) -> leave its mask alone
Notify = Callable[[str], None]
# the model in use: its predictor and its file (None: never saved), or None when none is loaded
Active = Callable[[], "tuple[Any, Path | None] | None"]


@dataclass(frozen=True)
class BatchSettings:
    folder: Path  # a workspace folder; with ``by_layout=False`` a folder of images or one image
    model_path: Path | None = None  # None: the model predicting now, else the shipped model
    output: Path | None = None  # None: the workspace's own mask folder (by its layout)
    mode: str = "resize"
    tta: bool = False  # each prediction averaged over flips (3x the work)
    overwrite: bool = False  # masks predicted earlier (never corrected/verified ones)
    device: str = "auto"  # for a model file (the model predicting now stays on its device)
    batch_size: int | None = None  # images per forward pass of a model file (None: default)
    tile_size: int | None = None  # tile side in tile mode, for a model file (None: default)
    write_probs: bool = False  # with ``output``: also ``<stem>_probs.npy``
    by_layout: bool = True  # images found by the folder's layout (the window); False: the
    #                         image files directly inside ``folder``, or ``folder`` itself (CLI)

    @property
    def options(self) -> PredictionOptions:
        return PredictionOptions(self.mode, self.tta, self.device)


def own_predictor(current: Any, options: PredictionOptions,
                  source: Path | None = None) -> Any:
    """A predictor with its own copy of ``current``'s network, on the same device, with
    ``options``' mode and flip averaging; on a CPU one image per step, so the user's own
    requests between two steps wait for one image at most. ``source``: the model's file (which
    tells the task's own model, whatever its classes are called now)."""
    from unet_desktop.ml.inference.predictor import Predictor

    network = copy.deepcopy(current.model)
    batch_size = 1 if current.device.type == "cpu" else current.batch_size
    return Predictor(network, current.meta, current.device, options.mode, options.tta,
                     fuse_bn=False, batch_size=batch_size, source=source)


def batch_predictor(settings: BatchSettings, active: Active | None = None,
                    notify: Notify | None = None) -> Any:
    """The predictor of a run, surviving out-of-memory errors (``notify`` says what changed).

    ``settings.model_path`` is loaded when given; otherwise ``active()`` (asked once, here)
    gives the predictor of the model in use and its file; the network is copied
    (:func:`own_predictor`); without ``active`` the shipped model is loaded. The predictor's
    ``source`` is the model's file. Raises :class:`ModelFileError` or ``ValueError`` when a
    model file cannot be used.
    """
    from unet_desktop.ml.api import load_model
    from unet_desktop.ml.inference.oom import ResilientPredictor

    options = settings.options
    if settings.model_path is not None or active is None:
        sizes = {name: value for name, value in (("batch_size", settings.batch_size),
                                                 ("tile_size", settings.tile_size))
                 if value is not None}
        inner = load_model(settings.model_path, device=options.device, mode=options.mode,
                           tta=options.tta, **sizes)
    else:
        in_use = active()
        if in_use is None:
            raise RuntimeError("no model is loaded: choose a model file")
        current, source = in_use
        inner = own_predictor(current, options, source)
    return ResilientPredictor(inner, notify)


def run_batch(settings: BatchSettings, predictor: Any, workspace: Any | None = None,
              protect: Protect | None = None, cancel: Any = None) -> Iterator[Any]:
    """Snapshots of ``ml.inference.batch_predict``'s progress for ``settings`` with ``predictor`` (from
    :func:`batch_predictor`); the window and ``unet-desktop predict`` both run this.

    ``workspace``: the folder open in the window, used (not opened a second time) when
    ``settings.folder`` is the same folder by any path. ``protect`` is asked about images of
    that workspace predicted in place.
    """
    from unet_desktop.core.folder.workspace import Workspace
    from unet_desktop.ml.inference.batch_predict import batch_predict

    if not settings.by_layout:
        if settings.output is None:
            raise ValueError(f"{settings.folder}: an output folder is needed")
        for mask_dir in _mask_folders_of(settings.folder):
            _refuse_own_mask_folder(settings.output, mask_dir)
        source: Any = settings.folder
        ws = None
    else:
        same = workspace is not None and same_folder(workspace.root, settings.folder)
        # finds images by layout; writing masks in place, it holds the folder's lock
        ws = workspace if same else Workspace.open(settings.folder,
                                                   writer=settings.output is None)
        if ws.lock_holder is not None and settings.output is None:
            if not same:  # the window's own workspace stays open
                ws.close()
            raise ValueError(f"{ws.root}: another window has this folder open "
                             f"({ws.lock_holder.describe()}): batch predict it there, or "
                             "choose an output folder")
        if settings.output is None:
            _refuse_read_only(ws, close=not same)
        if settings.output is not None:  # every image, masks into that folder
            for mask_dir in (ws.mask_dir, *_parents_mask_folder(ws.root)):
                _refuse_own_mask_folder(settings.output, mask_dir)
            source = list(dict.fromkeys(e.image_path for e in ws.entries))  # a stack once
        else:  # masks go where the workspace keeps them
            if not same and ws.task is None and not any(e.has_mask for e in ws):
                # nothing tells this folder's classes yet: the model's (a task's stay)
                scanned, ws = ws, Workspace.open(settings.folder, scheme=predictor.meta.scheme,
                                                 writer=True)
                scanned.close()  # the lock is re-entrant: ws holds it now
            misfit = _misfit(ws, predictor)
            if misfit:
                if not same:
                    ws.close()
                raise ValueError(f"{ws.root}: {misfit}, so its predictions are not written "
                                 "into the folder's masks; choose an output folder")
            source = ws
    guard = None
    if protect is not None and source is ws:
        root = ws.root

        def guard(key: str) -> bool:
            return protect(root, key)

    try:
        for progress in batch_predict(predictor, source, settings.output,
                                      overwrite=settings.overwrite,
                                      write_probs=settings.write_probs, cancel=cancel,
                                      protect=guard):
            yield replace(progress, results=list(progress.results))  # the generator reuses it
    finally:
        if ws is not None and ws is not workspace:
            ws.close()  # its lock goes


def _refuse_read_only(ws: Any, close: bool) -> None:
    """Masks predicted in place into a folder that cannot be written would each fail to save,
    after the whole folder was predicted: refused before the first image, saying why (and
    ``ws`` closed when ``close``: the run opened it)."""
    if not ws.read_only:
        return
    message = (f"cannot predict {ws.root} in place: {_why_read_only(ws)}, so no mask could be "
               "saved; choose an output folder you can write")
    if close:
        ws.close()
    raise ValueError(message)


def _why_read_only(ws: Any) -> str:
    """Why the workspace ``ws`` was opened read-only, in a few words."""
    from unet_desktop.core.folder.folder_open import _is_writable  # the rule the folder used

    cannot = "cannot be written (a read-only disk or share, or no permission to write)"
    if not _is_writable(ws.root):
        return f"the folder {cannot}"
    if not _is_writable(ws.mask_dir):
        return f"its mask folder {ws.mask_dir} {cannot}"
    held = [w for w in ws.warnings if "another window" in w]  # DATA/images while DATA is open
    return held[0] if held else "the folder was opened read-only"


def _refuse_own_mask_folder(output: Path, mask_dir: Path) -> None:
    """Masks written into the folder's own mask folder as plain files would be read back as the
    user's corrections (and in whatever classes the model has): refused, with what to do."""
    if same_folder(output, mask_dir):
        raise ValueError(
            f"{output} is the mask folder of the images' own folder: masks written there would "
            "be taken for your corrections; choose another output folder, or predict the folder "
            "in the window with no output folder (masks recorded as predicted, only with the "
            "folder's classes)")


def _mask_folders_of(source: Path) -> list[Path]:
    """The mask folders a workspace would read for the images of ``source`` (a folder of images
    or one image): its folder's own layout's, and its parent's (:func:`_parents_mask_folder`)."""
    from unet_desktop.core.folder.layouts import scan_folder

    folder = (source if source.is_dir() else source.parent).resolve()
    return [scan_folder(folder).mask_dir, *_parents_mask_folder(folder)]


def _parents_mask_folder(folder: Path) -> list[Path]:
    """The mask folder of ``folder``'s parent when the parent's layout takes its images from
    ``folder`` (``DATA/images``, whose masks are ``DATA/masks``); else none."""
    from unet_desktop.core.folder.layouts import scan_folder

    folder = folder.resolve()
    if folder.parent == folder:
        return []
    try:
        parent = scan_folder(folder.parent)
    except OSError:  # an unreadable parent is no workspace of these images
        return []
    return [parent.mask_dir] if same_folder(parent.image_dir, folder) else []


def _misfit(ws: Any, predictor: Any) -> str | None:
    """Why ``predictor``'s predictions cannot be ``ws``'s masks (None: they can). A folder with
    a task: the window's rule (``batch_workspace.task_mismatch``: any order, and the task's own
    model after a rename); without one its classes are guessed from its masks: the kind and
    stored values must agree."""
    from unet_desktop.ml.inference.batch_workspace import task_mismatch

    model, folder = predictor.meta.scheme, ws.scheme
    if ws.task is not None:
        return task_mismatch(predictor, ws)
    if model.same_values(folder):
        return None
    return (f"the model predicts {model.kind} masks of values {list(model.stored_values)} but "
            f"this folder's masks are {folder.kind} of values {list(folder.stored_values)}")
