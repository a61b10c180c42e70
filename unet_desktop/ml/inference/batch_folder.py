"""Batch prediction of a folder, one image or a list of images into an output folder.

``<stem>.png`` masks are written into ``out_dir`` (``<stem>.tif``, a mask stack, for a
multi-page TIFF; images sharing a stem get ``<stem>_<ext>``) and the folder's record
(:mod:`unet_desktop.ml.inference.prediction_record`) remembers which model wrote which mask, so
a second run resumes: only images without a mask are predicted. Unless ``overwrite``, a mask
is kept when this model version wrote it, when another (an earlier model) did, when the record
does not know it (a user's own mask) or when its content changed since it was written (a
correction made in another program). With ``overwrite`` every image is predicted again, and a
user's mask (the last two) is first copied into ``<out_dir>/.unet-desktop/replaced/`` (the
result says where). ``write_probs`` also writes
``<stem>_probs.npy``: float16, C x H x W, classes in the model's training-index order. A
multi-page TIFF is predicted slice by slice; its stack is written once every slice is done (a
slice that cannot be read stays unlabeled). A second run predicts the slices that the stack lacks
(a cancelled run's, or those of an image that gained slices), also with another model version,
and keeps the pages already predicted; the record names the version of each page, so a later
run calls a page its own only when this version wrote it, and the uncertainty of each page, so
the stack's figure is the mean over all its predicted pages, a resumed run's as a full run's.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.io.atomic import atomic_write
from unet_desktop.core.io.imageio import IMAGE_EXTENSIONS
from unet_desktop.core.io.maskio import write_mask
from unet_desktop.core.io.paths import first_free_path
from unet_desktop.core.io.stacks import (
    is_tiff_name,
    probe_tiff,
    read_mask_pages,
    read_mask_stack_header,
    slice_key,
    write_mask_stack,
)
from unet_desktop.ml.inference.batch_progress import BEING_EDITED, BatchJob, ItemResult
from unet_desktop.ml.inference.prediction_record import PredictionRecord
from unet_desktop.ml.inference.predictor import Prediction, Predictor

log = logging.getLogger(__name__)
UP_TO_DATE = "already predicted by this model version"  # the skip that is no news
OTHER_MODEL = "predicted by another model version"  # kept unless overwrite (in its skip reason)


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (by extension; decoding checks the content)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not p.name.startswith("."))


def _source_paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return list_images(path)
        if path.exists():
            return [path]
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [Path(p) for p in source]


def _output_names(paths: Sequence[Path], suffixes: Sequence[str] | None = None) -> list[str]:
    """``<stem>.png`` (``.tif`` for a stack); images sharing a stem (a.jpg, a.png) get
    ``<stem>_<ext>.png``."""
    stems = collections.Counter(p.stem for p in paths)
    suffixes = suffixes or [".png"] * len(paths)
    return [f"{p.stem}{s}" if stems[p.stem] == 1 else f"{p.stem}_{p.suffix[1:].lower()}{s}"
            for p, s in zip(paths, suffixes)]


def _slices(path: Path) -> int:
    """Slices of a multi-page TIFF (header only); 1 for any other image or an unreadable file,
    whose decoding then says why."""
    if not is_tiff_name(path):
        return 1
    try:
        return probe_tiff(path).slices
    except FileError:
        return 1


def _folder_jobs(paths: Sequence[Path], out_dir: Path) -> list[BatchJob]:
    """One job per image, one per slice of a multi-page TIFF (whose mask is a stack)."""
    slices = [_slices(p) for p in paths]
    names = _output_names(paths, [".tif" if n > 1 else ".png" for n in slices])
    jobs = []
    for path, name, count in zip(paths, names, slices):
        if count == 1:
            jobs.append(BatchJob(path.name, path, out_dir / name))
        else:
            jobs.extend(BatchJob(slice_key(path.name, i, count), path, out_dir / name, i, count)
                        for i in range(count))
    return jobs


@dataclasses.dataclass
class _StackOutput:
    """The mask stack of one multi-page TIFF, page by page as slices finish."""

    image_path: Path
    count: dataclasses.InitVar[int]
    kept: dict[int, np.ndarray] = dataclasses.field(default_factory=dict)  # a resume's pages
    kept_versions: dict[int, str | None] = dataclasses.field(default_factory=dict)  # theirs
    kept_scores: dict[int, float | None] = dataclasses.field(default_factory=dict)  # theirs
    pages: list[np.ndarray | None] = dataclasses.field(init=False)
    versions: list[str | None] = dataclasses.field(init=False)  # the model of each page
    scores: list[float | None] = dataclasses.field(init=False)  # the uncertainty of each page
    done: int = 0  # slices predicted or failed, and the pages kept

    def __post_init__(self, count: int) -> None:
        self.pages = [None] * count
        self.versions = [None] * count
        self.scores = [None] * count
        for index, page in self.kept.items():
            self.pages[index] = page
            self.versions[index] = self.kept_versions.get(index)
            self.scores[index] = self.kept_scores.get(index)
        self.done = len(self.kept)

    def drop_misfits(self) -> None:
        """Forget the kept pages whose size differs from this run's (the image was replaced):
        they stay unlabeled, so a next run predicts them."""
        shapes = {p.shape for i, p in enumerate(self.pages) if p is not None and i not in self.kept}
        for index, page in self.kept.items():
            if shapes and page.shape not in shapes:
                self.pages[index] = self.versions[index] = self.scores[index] = None

    def score(self) -> float:
        """The stack's uncertainty: the mean over every page it holds a prediction of, those
        this run predicted and those an earlier run did (a resumed run's stack means what a
        full run's does)."""
        known = [s for p, s in zip(self.pages, self.scores) if p is not None and s is not None]
        return float(np.mean(known)) if known else 0.0


def _make_output_folder(out: Path) -> None:
    """Create the output folder ``out`` (and its parents); ``FileError`` naming it and why not."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:  # exist_ok: only when ``out`` is no folder
        raise FileError(out, "it is a file, not a folder: the masks need an output folder "
                        "(choose another path)") from exc
    except OSError as exc:
        raise FileError(out, f"cannot create the output folder ({exc.strerror})") from exc


class FolderOutput:
    """The jobs of the source images and the writer of their masks (the pipeline's sink)."""

    def __init__(self, predictor: Predictor,
                 source: str | os.PathLike | Sequence[str | os.PathLike],
                 out_dir: str | os.PathLike | None, rank: int, world_size: int,
                 protect: Callable[[str], bool]):
        if out_dir is None:
            raise ValueError("out_dir is needed unless the source is a workspace")
        out = self.out_dir = Path(out_dir)
        self.jobs = _folder_jobs(_source_paths(source), out)
        if self.jobs:  # no images: no empty output folder left behind
            _make_output_folder(out)
        self.record = PredictionRecord(out, rank, world_size)
        self.version = predictor.meta.version
        self.scheme = predictor.meta.scheme
        self.protect = protect
        self.stacks: dict[Path, _StackOutput] = {}  # mask stacks being assembled
        self.kept: dict[Path, frozenset[int]] = {}  # stack -> its pages this run keeps

    def skip_reason(self, job: BatchJob, overwrite: bool) -> str | None:
        """Why ``job`` is not predicted at all (None: it is). A slice is skipped only when its
        page of the stack holds a prediction, of this model version or another
        (:meth:`_pages_kept`): an unlabeled page is an image without a mask. With ``overwrite``
        nothing is skipped: a user's mask is copied aside when it is replaced."""
        if overwrite or job.target is None or not job.target.exists():
            return None
        users = self._users_mask(job.target)
        if users:
            return f"{job.target} {users}, so it is yours: kept (overwrite replaces it, keeping a copy)"
        if job.page is not None and job.page not in self._pages_kept(job):
            return None
        written_by = (self.record.version_of(job.target.name) if job.page is None
                      else self.record.page_version(job.target.name, job.page))
        if written_by == self.version:
            return UP_TO_DATE
        what = job.target if job.page is None else f"page {job.page + 1} of {job.target}"
        return f"{what} was {OTHER_MODEL} ({written_by}): kept (overwrite predicts it again)"

    def _users_mask(self, target: Path) -> str | None:
        """Why the existing mask ``target`` is the user's, not unet-desktop's as it wrote it
        (None: the record knows it as written)."""
        if self.record.changed(target.name):
            return "was changed after unet-desktop wrote it (your correction?)"
        if self.record.version_of(target.name) is not None:
            return None
        if self.record.unreadable:
            return (f"exists and the record of the masks unet-desktop wrote "
                    f"({self.record.unreadable[0].name}) is unreadable")
        return "exists and was not written by unet-desktop"

    def _keep_users_mask(self, target: Path) -> str | None:
        """Copy ``target`` into ``<out_dir>/.unet-desktop/replaced/`` when it is the user's mask
        about to be replaced (``overwrite``); the note for the result, None when nothing was
        kept. Raises ``OSError`` (the mask is then not replaced)."""
        users = self._users_mask(target) if target.exists() else None
        if not users:
            return None
        folder = self.out_dir / MANIFEST_DIR / "replaced"
        folder.mkdir(parents=True, exist_ok=True)
        kept = first_free_path(folder, f"{target.stem}-{time.strftime('%Y%m%d-%H%M%S')}",
                               target.suffix)
        shutil.copy2(target, kept, follow_symlinks=False)  # a link stays a link
        return f"the mask it replaced, {target.name}, {users}: a copy is kept as {kept}"

    def _pages_kept(self, job: BatchJob) -> frozenset[int]:
        """The labelled pages of the stack ``job.target``, written by unet-desktop (this model
        version or another), that a run keeps (header only, once per stack). None are kept when the stack has more pages
        than the image has slices (it was another image's) or its header cannot be read: then
        every slice is predicted again."""
        if job.target not in self.kept:
            try:
                header = read_mask_stack_header(job.target)
            except MaskError:
                header = None
            fits = header is not None and header.pages <= job.pages
            self.kept[job.target] = frozenset(
                i for i in range(header.pages) if header.labelled(i)) if fits else frozenset()
        return self.kept[job.target]

    def write(self, items: list[tuple[BatchJob, Prediction]]) -> list[ItemResult]:
        return [self._write_file(job, pred) for job, pred in items]

    def close(self) -> None:
        """Cancelled or failed slices: write the stacks as far as they are done; save the record."""
        for target in list(self.stacks):
            error, note = self._write_stack(target)
            if error or note:
                log.warning("%s", error or note)
        self.record.save()

    def slice_failed(self, job: BatchJob) -> list[ItemResult]:
        """A slice that could not be read: its page of the mask stack stays unlabeled."""
        self._stack_of(job).done += 1
        self._write_stack_if_complete(job.target)
        return []

    def _stack_of(self, job: BatchJob) -> _StackOutput:
        if job.target not in self.stacks:
            kept = self._read_kept(job.target)
            versions = {i: self.record.page_version(job.target.name, i) for i in kept}
            scores = {i: self.record.page_score(job.target.name, i) for i in kept}
            self.stacks[job.target] = _StackOutput(job.image_path, job.pages, kept, versions,
                                                   scores)
        return self.stacks[job.target]

    def _read_kept(self, target: Path) -> dict[int, np.ndarray]:
        """The pages of ``target`` that this run skipped (predicted before), to write them again."""
        kept = self.kept.get(target)
        if not kept:
            return {}
        try:
            return read_mask_pages(target, sorted(kept), self.scheme)
        except MaskError as exc:
            log.warning("%s: its pages predicted before cannot be read (%s); they are written "
                        "as unlabeled, and a next run predicts them", target, exc)
            return {}

    def _write_slice(self, job: BatchJob, pred: Prediction) -> ItemResult:
        stack = self._stack_of(job)
        stack.pages[job.page] = pred.labels
        stack.versions[job.page] = self.version
        stack.scores[job.page] = pred.score
        stack.done += 1
        if pred.probs is not None:
            probs = pred.probs.astype(np.float16, copy=False)  # float16 already from a batch
            name = f"{job.target.stem}_z{job.page + 1:04d}_probs.npy"
            atomic_write(job.target.with_name(name), lambda f: np.save(f, probs))
        error, note = self._write_stack_if_complete(job.target)
        if error:
            return ItemResult(job.key, job.image_path, "failed", error)
        return ItemResult(job.key, job.image_path, "predicted", note or "", job.target,
                          pred.score)

    def _write_stack_if_complete(self, target: Path) -> tuple[str | None, str | None]:
        stack = self.stacks[target]
        return self._write_stack(target) if stack.done == len(stack.pages) else (None, None)

    def _write_stack(self, target: Path) -> tuple[str | None, str | None]:
        """Write the assembled mask stack ``target`` (once) and record it; (the error, the
        note of a user's mask kept aside), each None when there is none."""
        stack = self.stacks.pop(target)
        stack.drop_misfits()
        if all(p is None for p in stack.pages):
            return None, None
        try:
            note = self._keep_users_mask(target)
        except OSError as exc:
            return _not_kept(target, exc), None
        entry = self.record.entry(target, stack.image_path, self.version, stack.score(),
                                  stack.versions, stack.scores)
        try:
            write_mask_stack(target, stack.pages, self.scheme)
        except (FileError, OSError) as exc:
            return str(exc), note
        self.record.add(target.name, entry)
        return None, note

    def _write_file(self, job: BatchJob, pred: Prediction) -> ItemResult:
        target = job.target
        if self.protect(job.key):
            return ItemResult(job.key, job.image_path, "skipped", BEING_EDITED)
        if job.page is not None:
            return self._write_slice(job, pred)
        try:
            note = self._keep_users_mask(target)
        except OSError as exc:
            return ItemResult(job.key, job.image_path, "failed", _not_kept(target, exc))
        entry = self.record.entry(target, job.image_path, self.version, pred.score)
        try:
            write_mask(target, pred.labels, self.scheme)
            if pred.probs is not None:
                probs = pred.probs.astype(np.float16, copy=False)  # float16 already from a batch
                atomic_write(target.with_name(f"{target.stem}_probs.npy"),
                             lambda f: np.save(f, probs))
        except (FileError, OSError) as exc:
            return ItemResult(job.key, job.image_path, "failed", str(exc))
        self.record.add(target.name, entry)
        return ItemResult(job.key, job.image_path, "predicted", note or "", target, pred.score)


def _not_kept(target: Path, exc: OSError) -> str:
    """Why a user's mask was not replaced: no copy of it could be kept."""
    return (f"{target} was not replaced: a copy of it could not be kept in "
            f"{target.parent / MANIFEST_DIR / 'replaced'} ({exc.strerror or exc})")
