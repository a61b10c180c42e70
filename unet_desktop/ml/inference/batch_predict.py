"""Predict a whole folder (or workspace) as a generator of progress reports.

Images are decoded on a thread pool, predicted in batches, and written on a background thread,
so the device never waits on the disk. The same generator serves the GUI (a worker iterates it),
the CLI (a progress bar) and tests.

- Workspace source: masks go through ``Workspace.save_mask`` with state ``predicted`` and the
  model version; images marked ``corrected`` or ``verified`` are never overwritten (checked
  again right before each write, under the workspace's write lock, so that a save by another
  thread cannot slip in between); images already predicted by this model version are skipped
  unless ``overwrite``. Each record is journalled before its mask is written (see
  :mod:`unet_desktop.core.folder.manifest_writer`), so a run killed midway reopens with its
  masks ``predicted``, never taken for a person's ``corrected`` masks. A kept mask whose values do
  not fit the folder's scheme is skipped and named with the reason (``Workspace.invalid``). A
  folder with a task (``core.folder.task``) refuses a model with other classes than the task's.
- ``protect(key) -> True`` (e.g. the image being edited in the window) is asked right before
  each write, in either mode; such an image is skipped with the reason "being edited". It is
  called on the writer thread (under the workspace's write lock in workspace mode), so it must
  be thread-safe and must not wait for other threads.
- Folder, single image or list of images: ``<stem>.png`` masks are written into ``out_dir``
  and a record ``unet-desktop-predictions.json`` there remembers which model wrote which mask,
  so a second run resumes (skips masks of the same model version). A mask file that the record
  does not know (a user's own mask) is kept unless ``overwrite``. ``write_probs`` also writes
  ``<stem>_probs.npy``: float16, C x H x W, classes in the model's training-index order.
- Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set) rank ``r`` takes items ``r::world_size``
  and keeps its own record file.
- Unreadable images are reported (path and reason) and skipped; cancelling (a
  :class:`CancelToken`, or closing the generator) stops after the current batch, finishes the
  pending writes and saves the record, then a last report with ``cancelled=True`` is yielded.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.journal import Journal, file_identity, was_replaced
from unet_desktop.core.folder.task import classes_mismatch
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.atomic import atomic_write, atomic_write_bytes
from unet_desktop.core.io.imageio import IMAGE_EXTENSIONS, read_image_raw
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.maskio import write_mask
from unet_desktop.core.io.stacks import (
    is_tiff_name,
    probe_tiff,
    read_slice,
    read_tiff_image,
    slice_key,
    write_mask_stack,
)
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.predictor import Prediction, Predictor

log = logging.getLogger(__name__)
RECORD_NAME = "unet-desktop-predictions"
Status = Literal["predicted", "skipped", "failed"]
_KEPT = (ImageState.CORRECTED, ImageState.VERIFIED)
_RECORD_EVERY = 32  # writes between record saves
BEING_EDITED = "being edited"
CHANGED_ON_DISK = ("its mask changed on disk since this folder was opened (another window or "
                   "program saved it): left as it is")


@dataclasses.dataclass
class ItemResult:
    """What happened to one image. ``reason`` explains a skip or a failure."""

    key: str
    image_path: Path
    status: Status
    reason: str = ""
    output: Path | None = None
    score: float | None = None


@dataclasses.dataclass
class BatchProgress:
    done: int
    total: int
    predicted: int = 0
    skipped: int = 0
    failed: int = 0
    results: list[ItemResult] = dataclasses.field(default_factory=list)  # finished since the last report
    elapsed_s: float = 0.0
    finished: bool = False
    cancelled: bool = False


@dataclasses.dataclass
class _Job:
    key: str
    image_path: Path
    target: Path | None = None  # folder mode: the mask file to write
    page: int | None = None  # a slice of a multi-page TIFF (its target is the mask stack)
    pages: int = 1


def distributed_shard() -> tuple[int, int]:
    """(rank, world_size) from torchrun's environment, (0, 1) when not distributed."""
    return int(os.environ.get("RANK", "0") or 0), int(os.environ.get("WORLD_SIZE", "1") or 1)


def list_images(folder: Path) -> list[Path]:
    """Image files directly inside ``folder`` (by extension; decoding checks the content)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not p.name.startswith("."))


def _output_names(paths: Sequence[Path], suffixes: Sequence[str] | None = None) -> list[str]:
    """``<stem>.png`` (``.tif`` for a stack); images sharing a stem (a.jpg, a.png) get
    ``<stem>_<ext>.png``."""
    stems = collections.Counter(p.stem for p in paths)
    suffixes = suffixes or [".png"] * len(paths)
    return [f"{p.stem}{s}" if stems[p.stem] == 1 else f"{p.stem}_{p.suffix[1:].lower()}{s}"
            for p, s in zip(paths, suffixes)]


class _Record:
    """Which model version wrote which mask in an output folder (JSON, written atomically).

    Before a mask is written, its entry is appended to a journal beside the record
    (:mod:`unet_desktop.core.folder.journal`, with the identity of the file it replaces), so a process
    killed between two saves of the record still knows every mask it wrote; an entry whose mask
    was not replaced after all is ignored. Loading replays the journals; a save folds its own
    journal into the record.
    """

    def __init__(self, out_dir: Path, rank: int, world_size: int):
        name = RECORD_NAME if world_size == 1 else f"{RECORD_NAME}.rank{rank}"
        self.out_dir = out_dir
        self.path = out_dir / f"{name}.json"
        self.journal = Journal(out_dir / f"{name}.journal")
        self.items: dict[str, dict] = {}
        self.known: dict[str, dict] = {}  # every rank's records, for resuming
        self.unreadable: list[Path] = []  # records that could not be read (said in skip reasons)
        for path in sorted(out_dir.glob(f"{RECORD_NAME}*.json")):
            try:
                items = json.loads(path.read_text("utf-8")).get("items", {})
            except (OSError, ValueError, AttributeError) as exc:
                log.warning("%s: unreadable, the masks it lists count as not written by "
                            "unet-desktop (%s)", path, exc)
                self.unreadable.append(path)
                continue
            if isinstance(items, dict):
                self.known.update(items)
                if path == self.path:
                    self.items.update(items)
        self.unsaved = 0
        for path in sorted(out_dir.glob(f"{RECORD_NAME}*.journal")):
            replayed = self._replay(Journal(path))
            self.known.update(replayed)
            if path == self.journal.path:
                self.items.update(replayed)
                self.unsaved += len(replayed)  # folded into the record by the next save

    def _replay(self, journal: Journal) -> dict[str, dict]:
        """The journal's entries whose mask file was really replaced (later ones win)."""
        entries: dict[str, dict] = {}
        for line in journal.read():
            name, before = line.pop("name", None), line.pop("before", None)
            if isinstance(name, str) and was_replaced(self.out_dir / name, before):
                entries[name] = line
        return entries

    def version_of(self, name: str) -> str | None:
        entry = self.known.get(name)
        return entry.get("model_version") if isinstance(entry, dict) else None

    def entry(self, target: Path, image: Path, version: str, score: float) -> dict:
        """The entry of the mask ``target`` about to be written, already in the journal."""
        entry = {"image": image.name, "model_version": version, "uncertainty": round(score, 6)}
        try:
            self.journal.append({"name": target.name, "before": file_identity(target), **entry})
        except OSError as exc:  # the entry still goes into the record at the next save
            log.warning("%s: cannot append to the journal (%s); if this run is killed before "
                        "the record is saved, %s will count as not written by unet-desktop",
                        self.journal.path, exc, target.name)
        return entry

    def add(self, name: str, entry: dict) -> None:
        """The mask ``name`` was written."""
        self.items[name] = entry
        self.unsaved += 1
        if self.unsaved >= _RECORD_EVERY:
            self.save()

    def save(self) -> None:
        if self.unsaved:
            data = json.dumps({"items": self.items}, indent=1, sort_keys=True).encode()
            atomic_write_bytes(self.path, data)
            self.journal.clear()
            self.unsaved = 0


def _folder_jobs(paths: Sequence[Path], out_dir: Path) -> list[_Job]:
    """One job per image, one per slice of a multi-page TIFF (whose mask is a stack)."""
    slices = [_slices(p) for p in paths]
    names = _output_names(paths, [".tif" if n > 1 else ".png" for n in slices])
    jobs = []
    for path, name, count in zip(paths, names, slices):
        if count == 1:
            jobs.append(_Job(path.name, path, out_dir / name))
        else:
            jobs.extend(_Job(slice_key(path.name, i, count), path, out_dir / name, i, count)
                        for i in range(count))
    return jobs


def _slices(path: Path) -> int:
    """Slices of a multi-page TIFF (header only); 1 for any other image or an unreadable file,
    whose decoding then says why."""
    if not is_tiff_name(path):
        return 1
    try:
        return probe_tiff(path).slices
    except FileError:
        return 1


def _skip_reason_folder(job: _Job, record: _Record, version: str, overwrite: bool) -> str | None:
    if overwrite or job.target is None or not job.target.exists():
        return None
    written_by = record.version_of(job.target.name)
    if written_by is None and record.unreadable:
        return (f"{job.target} exists and the record of the masks unet-desktop wrote "
                f"({record.unreadable[0].name}) is unreadable (use overwrite)")
    if written_by is None:
        return f"{job.target} exists and was not written by unet-desktop (use overwrite)"
    if written_by == version:
        return "already predicted by this model version"
    return None


def _skip_reason_workspace(ws: Workspace, key: str, version: str, overwrite: bool) -> str | None:
    entry = ws[key]
    if key in ws.invalid:
        return f"invalid mask, left as it is: {ws.invalid[key]}"
    if entry.state in _KEPT:
        return f"kept: marked {entry.state.value}"
    if not overwrite and entry.state is ImageState.PREDICTED and entry.model_version == version:
        return "already predicted by this model version"
    return None


def batch_predict(
    predictor: Predictor,
    source: Workspace | str | os.PathLike | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    write_probs: bool = False,
    cancel: CancelToken | None = None,
    decode_workers: int = 2,
    rank: int | None = None,
    world_size: int | None = None,
    protect: Callable[[str], bool] | None = None,
) -> Iterator[BatchProgress]:
    """Predict every image of ``source``; yields a :class:`BatchProgress` after each batch.

    ``source`` is a :class:`Workspace`, a folder, one image file, or a list of image files;
    ``out_dir`` is required for all but a workspace. ``protect(key)`` True: do not write that
    image's mask (asked right before each write). See the module docstring for the rules.
    """
    env_rank, env_world = distributed_shard()
    rank = env_rank if rank is None else rank
    world_size = env_world if world_size is None else world_size
    version = predictor.meta.version
    ws = source if isinstance(source, Workspace) else None
    record: _Record | None = None
    if ws is not None:
        if world_size > 1:
            raise ValueError("a workspace is predicted by one process: its manifest is shared")
        if write_probs:
            raise ValueError("probabilities are written only in folder mode (out_dir)")
        mismatch = classes_mismatch(predictor.meta.scheme, ws.scheme) if ws.task else None
        if mismatch:
            raise ValueError(f"{ws.root}: {mismatch}; its predictions are not written into "
                             "the task's masks (fine-tune a model of this task first)")
        ws.check_masks([e for e in ws.entries if e.state in _KEPT])  # named when skipped
        jobs = [_Job(e.key, e.image_path) for e in ws.entries]
    else:
        if out_dir is None:
            raise ValueError("out_dir is needed unless the source is a workspace")
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        jobs = _folder_jobs(_source_paths(source), out)
        record = _Record(out, rank, world_size)
    jobs = jobs[rank::world_size]

    progress = BatchProgress(done=0, total=len(jobs))
    todo: list[_Job] = []
    for job in jobs:
        reason = (_skip_reason_workspace(ws, job.key, version, overwrite) if ws is not None
                  else _skip_reason_folder(job, record, version, overwrite))
        if reason:
            _count(progress, ItemResult(job.key, job.image_path, "skipped", reason))
        else:
            todo.append(job)
    runner = _Runner(predictor, ws, record, write_probs, decode_workers, protect)
    yield from runner.run(todo, progress, cancel or CancelToken())


def _source_paths(source: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return list_images(path)
        if path.exists():
            return [path]
        raise FileNotFoundError(f"{path}: no such file or folder")
    return [Path(p) for p in source]


def _count(progress: BatchProgress, result: ItemResult) -> None:
    progress.results.append(result)
    progress.done += 1
    if result.status == "predicted":
        progress.predicted += 1
    elif result.status == "skipped":
        progress.skipped += 1
    else:
        progress.failed += 1


def _report(progress: BatchProgress, start: float) -> BatchProgress:
    """A snapshot to hand out; the running tally starts a new list of results."""
    progress.elapsed_s = time.perf_counter() - start
    snapshot = dataclasses.replace(progress, results=progress.results)
    progress.results = []
    return snapshot


def _decode(job: _Job) -> np.ndarray:
    """The image's stored values (the predictor applies its model's input rule)."""
    if job.page is not None:
        return read_slice(job.image_path, job.page)
    if is_tiff_name(job.image_path):
        return read_tiff_image(job.image_path)
    return read_image_raw(job.image_path)


def _decode_fitting(job: _Job, rule: InputRule) -> np.ndarray:
    """:func:`_decode`, and an image whose channels do not fit the model's rule raises here (on
    the decode thread), so that it fails alone, with the reason."""
    values = _decode(job)
    rule.pick_channels(values, job.image_path)
    return values


@dataclasses.dataclass
class _StackOutput:
    """Folder mode: the mask stack of one multi-page TIFF, page by page as slices finish."""

    image_path: Path
    count: dataclasses.InitVar[int]
    pages: list[np.ndarray | None] = dataclasses.field(init=False)
    scores: list[float] = dataclasses.field(default_factory=list)
    done: int = 0  # slices predicted or failed

    def __post_init__(self, count: int) -> None:
        self.pages = [None] * count


class _Runner:
    """The decode -> predict -> write pipeline for the jobs that need predicting."""

    def __init__(self, predictor: Predictor, ws: Workspace | None, record: _Record | None,
                 write_probs: bool, decode_workers: int,
                 protect: Callable[[str], bool] | None):
        self.predictor = predictor
        self.ws = ws
        self.record = record
        self.write_probs = write_probs
        self.decode_workers = max(1, decode_workers)
        self.protect = protect or (lambda key: False)
        self.stacks: dict[Path, _StackOutput] = {}  # folder mode: mask stacks being assembled

    def run(self, todo: list[_Job], progress: BatchProgress,
            cancel: CancelToken) -> Iterator[BatchProgress]:
        start = time.perf_counter()
        batch_size = self.predictor.batch_size
        decoder = ThreadPoolExecutor(self.decode_workers, thread_name_prefix="decode")
        writer = ThreadPoolExecutor(1, thread_name_prefix="write")
        decoding: collections.deque[tuple[_Job, Future]] = collections.deque()
        writing: collections.deque[Future] = collections.deque()
        queue = iter(todo)
        try:
            while True:
                while len(decoding) < 3 * batch_size:  # keep the decoders ahead
                    job = next(queue, None)
                    if job is None:
                        break
                    decoding.append((job, decoder.submit(_decode_fitting, job,
                                                                self.predictor.meta.rule)))
                if not decoding or cancel.cancelled:
                    break
                batch: list[tuple[_Job, np.ndarray]] = []
                while decoding and len(batch) < batch_size:
                    job, future = decoding.popleft()
                    try:
                        batch.append((job, future.result()))
                    except (FileError, OSError, ValueError) as exc:
                        _count(progress, ItemResult(job.key, job.image_path, "failed", str(exc)))
                        if job.page is not None and self.ws is None:
                            writing.append(writer.submit(self._slice_failed, job))
                if batch:
                    preds = self.predictor.predict_batch([im for _, im in batch],
                                                         probs=self.write_probs)
                    writing.append(writer.submit(self._write, list(zip(batch, preds))))
                while writing and (writing[0].done() or len(writing) > 2):
                    for result in writing.popleft().result():
                        _count(progress, result)
                yield _report(progress, start)
        finally:
            for _, future in decoding:
                future.cancel()
            decoder.shutdown(wait=True)
            writer.shutdown(wait=True)
            for future in writing:
                for result in future.result():
                    _count(progress, result)
            for target in list(self.stacks):  # cancelled or failed slices: write what is done
                self._write_stack(target)
            if self.record is not None:
                self.record.save()
        progress.cancelled = cancel.cancelled and progress.done < progress.total
        progress.finished = True
        yield _report(progress, start)

    def _write(self, items: list[tuple[tuple[_Job, np.ndarray], Prediction]]) -> list[ItemResult]:
        if self.ws is None:
            results = [self._write_file(job, pred) for (job, _), pred in items]
            return results
        with self.ws.deferred_manifest():  # one manifest write per batch
            return [self._write_workspace(job, pred) for (job, _), pred in items]

    def _write_workspace(self, job: _Job, pred: Prediction) -> ItemResult:
        version = self.predictor.meta.version
        # under the write lock, no other thread saves (or starts editing) between check and write
        with self.ws.write_lock:
            reason = _skip_reason_workspace(self.ws, job.key, version, overwrite=True)
            if not reason and self.protect(job.key):
                reason = BEING_EDITED
            if not reason and self.ws.changed_on_disk(job.key):
                reason = CHANGED_ON_DISK
            if reason:  # the user marked or opened it while we were predicting
                return ItemResult(job.key, job.image_path, "skipped", reason)
            try:
                path = self.ws.save_mask(job.key, pred.labels, ImageState.PREDICTED,
                                         model_version=version, uncertainty=pred.score)
            except (FileError, OSError) as exc:
                return ItemResult(job.key, job.image_path, "failed", str(exc))
        return ItemResult(job.key, job.image_path, "predicted", output=path, score=pred.score)

    def _slice_failed(self, job: _Job) -> list[ItemResult]:
        """A slice that could not be read: its page of the mask stack stays unlabeled."""
        self._stack_of(job).done += 1
        self._write_stack_if_complete(job.target)
        return []

    def _stack_of(self, job: _Job) -> _StackOutput:
        return self.stacks.setdefault(job.target, _StackOutput(job.image_path, job.pages))

    def _write_slice(self, job: _Job, pred: Prediction) -> ItemResult:
        stack = self._stack_of(job)
        stack.pages[job.page] = pred.labels
        stack.scores.append(pred.score)
        stack.done += 1
        if pred.probs is not None:
            probs = pred.probs.astype(np.float16)
            name = f"{job.target.stem}_z{job.page + 1:04d}_probs.npy"
            atomic_write(job.target.with_name(name), lambda f: np.save(f, probs))
        error = self._write_stack_if_complete(job.target)
        if error:
            return ItemResult(job.key, job.image_path, "failed", error)
        return ItemResult(job.key, job.image_path, "predicted", output=job.target,
                          score=pred.score)

    def _write_stack_if_complete(self, target: Path) -> str | None:
        stack = self.stacks[target]
        return self._write_stack(target) if stack.done == len(stack.pages) else None

    def _write_stack(self, target: Path) -> str | None:
        """Write the assembled mask stack ``target`` (once) and record it; the error, if any."""
        stack = self.stacks.pop(target)
        if all(p is None for p in stack.pages):
            return None
        score = float(np.mean(stack.scores)) if stack.scores else 0.0
        entry = self.record.entry(target, stack.image_path, self.predictor.meta.version, score)
        try:
            write_mask_stack(target, stack.pages, self.predictor.meta.scheme)
        except (FileError, OSError) as exc:
            return str(exc)
        self.record.add(target.name, entry)
        return None

    def _write_file(self, job: _Job, pred: Prediction) -> ItemResult:
        target = job.target
        if self.protect(job.key):
            return ItemResult(job.key, job.image_path, "skipped", BEING_EDITED)
        if job.page is not None:
            return self._write_slice(job, pred)
        entry = self.record.entry(target, job.image_path, self.predictor.meta.version,
                                  pred.score)
        try:
            write_mask(target, pred.labels, self.predictor.meta.scheme)
            if pred.probs is not None:
                probs = pred.probs.astype(np.float16)
                atomic_write(target.with_name(f"{target.stem}_probs.npy"),
                             lambda f: np.save(f, probs))
        except (FileError, OSError) as exc:
            return ItemResult(job.key, job.image_path, "failed", str(exc))
        self.record.add(target.name, entry)
        return ItemResult(job.key, job.image_path, "predicted", output=target, score=pred.score)
