"""The one owner of a folder's models: its versions, the model in use, the runs that make new ones.

Like a model registry (immutable versions, a moving "in use" pointer, recorded transitions), it
is the only code that changes the task's ``model`` and ``versions`` (``core.folder.task``), and every
training run of the folder, the manual fine-tune and the learning loop's rounds, goes through it:

- :meth:`FolderModels.plan_run` allocates the next ``<task>-v<n>`` once: the name is reserved on
  disk (``<file>.reserved``, created exclusively, naming its process) before anyone trains into
  it, so two runs planned at the same moment, in one process or two, never share a file; the
  reservation of a process that no longer runs (a crash) is removed when the next run is planned,
  with the model file it had begun when no version names it (else nothing would ever remove it);
  a run never starts from a model file that is gone;
- one run at a time (:meth:`begin`, :class:`RunBusy`): a manual fine-tune and a loop round of the
  same folder never train at once; the caller decides to wait for or cancel the running one;
- :meth:`finish_run` records the result in the folder it was planned for (whatever folder the
  window shows by then; a loop round's labelled images are those it trained on and its
  validation set, held back when too few to judge) and applies the promotion rule: a result asked to be promoted becomes the
  model in use only while the model in use is still the one it was planned from and the task's
  classes are still the ones it trained for (Mask > Classes may change them meanwhile); otherwise
  it is kept as a candidate and the note says why;
- :meth:`prune` keeps the model in use, its ``keep_ancestors`` nearest ancestors (what roll
  back goes to), the last ``keep_candidates`` other versions and the files the caller still
  holds (the window's current and previous model: C and Roll Back go to them); the other
  versions' files are deleted, so a folder holds at most 1 + 3 + 3 model files (and those held)
  however long the loop runs (an hour of correcting promotes dozens of rounds, each the parent of
  the next); a file that cannot be deleted (open in another program) keeps its version until a
  later prune, and the run's outcome says so; :meth:`delete` removes one version (never the one in use); :meth:`use` never records
  a missing file as in use; a model put into use that cannot label the task's classes (Roll Back
  to the start model) leaves the task with no model in use (:meth:`use_unfitting`), so a run
  planned from the version before is kept as a candidate;
- :meth:`trained_keys` names the images the folder's versions trained on (from their headers),
  :meth:`trained_masks` the masks they learnt (by sha1);
- :meth:`holdout` is the folder's frozen validation set (``core.folder.learning_record``: every k-th
  corrected image, chosen once), which no run of the folder trains on.

Qt-free and torch-free; thread-safe (one lock). :func:`folder_models` gives the one instance per
folder of this process; listeners (:meth:`subscribe`) hear of every saved task.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.folder_lock import LockHolder, read_holder
from unet_desktop.core.folder.learning_record import record_path, record_store
from unet_desktop.core.folder.manifest import MANIFEST_DIR
from unet_desktop.core.folder.task import (
    TASK_MODELS_DIR,
    ModelVersion,
    Task,
    is_task_model,
    load_task,
    model_file,
    models_folder,
    prediction_mismatch,  # noqa: F401 - re-exported: the window asks it here
    save_task,
    stored_reference,
    version_from_metadata,
)
from unet_desktop.core.io.model_header import model_metadata, model_scheme
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.progress import CancelToken

KEEP_CANDIDATES = 3  # versions kept besides the model in use and its nearest ancestors
KEEP_ANCESTORS = 3  # the parent, grandparent... of the model in use that are kept
RESERVED = ".reserved"
_VERSION_FILE = re.compile(r"[a-z0-9_.-]+-v\d+(?:-\d+)?\.safetensors")  # <task stem>-v<n>


class RunBusy(RuntimeError):
    """Another run of the folder is training; ``running`` is its plan."""

    def __init__(self, running: RunPlan) -> None:
        super().__init__(f"{running.name} ({running.kind}) is training in this folder")
        self.running = running


@dataclass(frozen=True)
class RunPlan:
    """One training run of a folder: what it starts from and where its result goes."""

    root: Path
    kind: str  # "manual" (Training > Fine-tune) or "loop" (a learning round)
    out: Path
    name: str  # e.g. "cells-v3"
    parent: Path | None  # the file it starts from; None: the ImageNet-pretrained encoder
    in_use: str | None  # the task's model in use when it was planned (the promotion rule)
    unfitting: str = ""  # with no version in use: the name of the model in use then
    cancel: CancelToken = field(default_factory=CancelToken, compare=False, repr=False)


@dataclass(frozen=True)
class Start:
    """What a run of the task starts from (:meth:`FolderModels.starting_point`)."""

    path: Path | None  # None: a new model from the ImageNet-pretrained encoder
    new_classes: bool  # its classes mapped onto the task's by name (ml.models.new_classes)
    renamed: bool  # the task's own model, its classes renamed since: carried by stored value
    origin: str  # one line for the user


@dataclass(frozen=True)
class Outcome:
    """What :meth:`FolderModels.finish_run` recorded."""

    version: ModelVersion
    in_use: bool
    note: str
    held_back: str = ""  # why a run asked to be put into use is only a candidate ("": it is not)
    not_pruned: str = ""  # the files pruning could not delete and why ("": none); kept till next


class FolderModels:
    """The owner of one folder's models (module docstring)."""

    def __init__(self, root: str | os.PathLike, user_models: str | os.PathLike,
                 keep_candidates: int = KEEP_CANDIDATES,
                 keep_ancestors: int = KEEP_ANCESTORS) -> None:
        self.root = Path(os.path.abspath(root))
        self.user_models = Path(user_models)
        self.keep_candidates = keep_candidates
        self.keep_ancestors = keep_ancestors
        self._lock = threading.RLock()
        self._running: RunPlan | None = None
        self._unfitting = ""  # the name of a model put into use that is none of the task's
        self._left_version: str | None = None  # the version it replaced (prune keeps its line)
        self.not_pruned = ""  # the last prune's files it could not delete, and why ("": none)
        self._listeners: list[weakref.WeakMethod] = []  # bound methods, held weakly

    # --- the task ---------------------------------------------------------------------------------
    @property
    def task(self) -> Task | None:
        """The folder's task as saved (``TaskError`` if its file is unreadable)."""
        return load_task(self.root)

    def _required_task(self) -> Task:
        task = self.task
        if task is None:
            raise FileError(self.root, "this folder has no task: its models have no owner yet")
        return task

    def subscribe(self, listener: Callable[[Path, Task], None]) -> None:
        """``listener(root, task)`` (a bound method, held weakly) after every task this owner
        saves, on the saving thread."""
        with self._lock:
            if all(ref() != listener for ref in self._listeners):
                self._listeners.append(weakref.WeakMethod(listener))

    def unsubscribe(self, listener: Callable[[Path, Task], None]) -> None:
        with self._lock:
            self._listeners = [r for r in self._listeners if r() is not None and r() != listener]

    def _save(self, task: Task) -> Task:
        save_task(self.root, task)
        for ref in list(self._listeners):
            listener = ref()
            if listener is not None:
                listener(self.root, task)
        return task

    def path_of(self, stored: str) -> Path:
        return model_file(self.root, stored)

    def starting_point(self, current: Path | None, current_scheme: LabelScheme | None,
                       current_label: str = "") -> Start:
        """What the task's next model starts from: the model in use (``current``) when it
        predicts the task's classes (the one class rule): as it is, or with its classifier's
        rows mapped onto the task's classes by name when the task reordered them, or as the
        task's own model whose classes the task renamed since (rows kept by value); else the
        task's ``start_from`` (its classes mapped onto the task's by name), else a new model
        from the ImageNet encoder."""
        task = self._required_task()
        label = current_label or (current.name if current is not None else "")
        if current is not None and current_scheme is not None \
                and current_scheme.same_classes(task.scheme):
            return Start(current, False, False, f"fine-tunes {label}")
        if current is not None and current_scheme is not None \
                and current_scheme.same_class_set(task.scheme):
            return Start(current, True, False, f"fine-tunes {label}, its classes in the task's "
                                               "order")
        if current is not None and current_scheme is not None \
                and current_scheme.same_value_set(task.scheme) and self._is_ours(task, current):
            return Start(current, False, True, f"fine-tunes {label}, its classes renamed as "
                                               "the task's")
        start = Path(task.start_from) if task.start_from else None
        if start is not None and start.is_file():
            return Start(start, True, False, f"starts from {start.name}, its classes mapped "
                                             "onto the task's by name")
        return Start(None, False, False, "a new model from the ImageNet-pretrained encoder")

    def _is_ours(self, task: Task, path: Path) -> bool:
        """``path`` is the task's model in use or one of its versions."""
        return is_task_model(self.root, task, path)

    # --- planning and the queue -------------------------------------------------------------------
    def plan_run(self, kind: str, parent: Path | None) -> RunPlan:
        """The next version's file and name, reserved now (raises ``FileError``, also when
        ``parent`` is gone)."""
        if parent is not None and not Path(parent).is_file():
            raise FileError(parent, "the model to start from is missing (deleted?): put another "
                                    "version into use (Model > Versions...)")
        with self._lock:
            task = self._required_task()
            folder = models_folder(self.root, task, self.user_models)
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FileError(folder, f"cannot create the models folder ({exc.strerror})"
                                ) from exc
            _remove_stale_reservations(folder, self._orphan_of_a_dead_run(task))
            stem = task.model_stem
            n = max(_numbers(stem, [v.name for v in task.versions]) + _numbers(stem, (
                p.name.split(".")[0] for p in folder.iterdir())), default=0) + 1
            while True:
                name = f"{stem}-v{n}"
                out = folder / f"{name}.safetensors"
                try:
                    _reserve(out)
                except FileExistsError:
                    n += 1
                    continue
                except OSError as exc:
                    raise FileError(out, f"cannot reserve the file ({exc.strerror})") from exc
                if out.exists():  # made by hand or by an older version of the app
                    _reservation(out).unlink(missing_ok=True)
                    n += 1
                    continue
                return RunPlan(self.root, kind, out, name,
                               Path(parent) if parent is not None else None, task.model,
                               unfitting=self._unfitting_in_use(task))

    def _orphan_of_a_dead_run(self, task: Task) -> Callable[[Path], bool]:
        """Whether a dead run's ``out`` may be deleted with its reservation: a file of this
        folder's own models folder that the task does not name (a run killed after writing it
        but before :meth:`finish_run` recorded it). In the user models folder, shared with
        other folders' tasks, it is left."""
        own = task.models_in != "user"
        return lambda out: own and not is_task_model(self.root, task, out)

    @property
    def running(self) -> RunPlan | None:
        with self._lock:
            return self._running

    def begin(self, plan: RunPlan) -> None:
        """``plan`` trains now; :class:`RunBusy` while another run of the folder does."""
        with self._lock:
            running = self._running
            if running is not None and running != plan and not running.cancel.cancelled:
                raise RunBusy(running)  # a cancelled run is on its way out: it gives way
            self._running = plan

    def cancel_run(self, plan: RunPlan) -> None:
        """Ask ``plan``'s run to stop (it gives way to the next :meth:`begin` at once); once
        stopped, :meth:`discard` it or :meth:`finish_run` what it kept."""
        plan.cancel.cancel()

    def discard(self, plan: RunPlan) -> None:
        """``plan`` ended with nothing kept: its reservation and any half-written file go."""
        with self._lock:
            if self._running == plan:
                self._running = None
            if self.task is None or self.task.version_of(
                    stored_reference(self.root, plan.out)) is None:
                _remove_model(plan.out)
            _reservation(plan.out).unlink(missing_ok=True)

    def finish_run(self, plan: RunPlan, model_path: Path, promote: bool,
                   metrics: dict | None = None, note: str = "", validated: bool | None = None,
                   validation_images: int | None = None,
                   keep: Iterable[str | os.PathLike | None] = ()) -> Outcome:
        """Record ``model_path`` (``plan``'s result) in ``plan``'s folder; it becomes the model
        in use if ``promote`` and the model in use is still the one ``plan`` started from. Then
        :meth:`prune`, keeping the files of ``keep`` (the models the window holds). The run is
        over either way; raises only ``FileError``, and only when nothing was recorded (what
        pruning could not do is in the outcome's ``not_pruned``)."""
        with self._lock:
            try:  # recorded or not (task.json unreadable or unwritable), the run is over
                outcome = self._record(plan, model_path, promote, metrics, note, validated,
                                       validation_images)
            finally:
                if self._running == plan:
                    self._running = None
                _reservation(plan.out).unlink(missing_ok=True)
            return replace(outcome, not_pruned=self._prune_after_run(keep))

    def _record(self, plan: RunPlan, model_path: Path, promote: bool, metrics: dict | None,
                note: str, validated: bool | None, validation_images: int | None) -> Outcome:
        """:meth:`finish_run`'s record of the version (``FileError`` if it cannot be)."""
        task = self._required_task()
        stored = stored_reference(self.root, model_path)
        version = version_from_metadata(stored, model_metadata(model_path) or {}, plan.name)
        parent = model_metadata(plan.parent) if plan.parent is not None else None
        if parent is not None and isinstance(parent.get("version"), str):
            version = replace(version, parent=parent["version"],  # what it started from
                              parent_name=str(parent.get("name") or plan.parent.stem))
        fits = _fits(model_path, task)
        in_use = promote and fits and task.model == plan.in_use \
            and self._unfitting_in_use(task) == plan.unfitting
        held_back = ""
        if promote and not fits:
            held_back = "trained for the classes before Mask > Classes changed them"
        elif promote and not in_use:
            now = Path(task.model).stem if task.model else self._unfitting or "another model"
            held_back = f"{now} was put into use while it trained"
        if held_back:
            note = f"kept as a candidate: {held_back}" + (f" ({note})" if note else "")
        version = replace(version, note=note,
                          metrics={**version.metrics, **(metrics or {})},
                          validated=validated, validation_images=validation_images)
        if plan.kind == "loop":
            version = _with_validation_set(version, validated, validation_images)
        self._save(task.with_version(version) if in_use else task.with_candidate(version))
        return Outcome(version, in_use, note, held_back)

    def _prune_after_run(self, keep: Iterable[str | os.PathLike | None]) -> str:
        """:meth:`prune` once a run is recorded, which nothing undoes: what it could not do
        is said, not raised ("": it did all)."""
        try:
            self.prune(keep)
        except FileError as exc:
            return f"Old versions were not pruned: {exc}"
        return self.not_pruned

    # --- the model in use ------------------------------------------------------------------------
    def use(self, path: str | os.PathLike) -> bool:
        """The user put ``path`` into use (Model > Versions, Open, roll back); False if it was.
        ``FileError`` if the file is gone: the task never names a missing model as in use.
        A version file of another folder's task (whose pruning may delete it) is copied into
        this task's models folder as a version of its own, which :meth:`in_use_file` names."""
        if not Path(path).is_file():
            raise FileError(path, "no such model file: it cannot be the task's model in use")
        with self._lock:
            task = self._required_task()
            stored = stored_reference(self.root, path)
            if task.model == stored:
                return False
            self._unfitting, self._left_version = "", None
            if self._another_tasks_version(task, Path(path)):
                self._save(self._adopt(task, Path(path)))
                return True
            self._save(replace(task, model=stored))
            return True

    def use_unfitting(self, path: str | os.PathLike) -> bool:
        """The user put into use ``path``, a model that cannot label the task's classes (Roll
        Back to the model the task started from, Model > Open): the task no longer names a
        model in use, unless ``path`` is one of its versions or already the one it names, so a
        run planned from the model before is not put into use over the user's choice (its
        note names ``path``). False if the task's model in use did not change."""
        with self._lock:
            task = self._required_task()
            stored = stored_reference(self.root, path)
            own = stored == task.model or task.version_of(stored) is not None
            self._unfitting = "" if own else Path(path).stem
            model = stored if own else None
            if task.model == model:
                return False
            if model is None:  # the user may roll forward to it: its ancestors stay
                self._left_version = task.model
            self._save(replace(task, model=model))
            return True

    def _unfitting_in_use(self, task: Task) -> str:
        """The name of the model in use when it is none of the task's versions ("": a
        version, or no model, is in use)."""
        return "" if task.model else self._unfitting

    def in_use_file(self) -> Path | None:
        """The file of the task's model in use (None: none, or no task)."""
        task = self.task
        return self.path_of(task.model) if task is not None and task.model else None

    def _another_tasks_version(self, task: Task, path: Path) -> bool:
        """``path`` is a version file in a models folder other than this task's: a task
        there may prune (delete) it."""
        if path.resolve().parent == models_folder(self.root, task, self.user_models).resolve():
            return False
        return is_a_task_version(path, self.user_models)

    def _adopt(self, task: Task, path: Path) -> Task:
        """``task`` with a copy of ``path`` as its next version, in use."""
        plan = self.plan_run("manual", None)
        partial = plan.out.with_name(plan.out.name + ".part")
        try:
            shutil.copyfile(path, partial)
            os.replace(partial, plan.out)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            _reservation(plan.out).unlink(missing_ok=True)
            raise FileError(plan.out, f"cannot copy {path} here ({exc.strerror})") from exc
        _reservation(plan.out).unlink(missing_ok=True)
        stored = stored_reference(self.root, plan.out)
        version = version_from_metadata(stored, model_metadata(plan.out) or {}, plan.name)
        version = replace(version, note=f"a copy of {path} (another folder's version, which "
                                        "its task may delete)")
        return task.with_version(version)

    def set_task(self, task: Task) -> Task:
        """A new set-up of the folder's task (File > New Task, Mask > Classes): its models,
        the model in use, scale and start model stay unless ``task`` names others."""
        with self._lock:
            old = self.task
            if old is not None:
                task = replace(task, versions=old.versions, model=task.model or old.model)
            return self._save(task)

    # --- pruning ----------------------------------------------------------------------------------
    def prune(self, keep: Iterable[str | os.PathLike | None] = ()) -> list[str]:
        """Delete the files of versions that are neither in use, nor among its
        ``keep_ancestors`` nearest ancestors, nor the last ``keep_candidates`` others, nor
        files of ``keep`` (models held in memory: roll back goes to them); returns the stored
        references removed. While no version is in use (a model that is none of the task's
        is), the version it replaced and its ancestors are kept as the one in use would be;
        if that version is not known (the app restarted since), nothing is deleted. A file
        that cannot be deleted (open in another program) keeps its version, and
        :attr:`not_pruned` says which (the next prune tries again)."""
        with self._lock:
            task = self.task
            if task is None:
                return []
            line = task.model or self._left_version
            if line is None and task.versions:
                return []  # which versions the user may roll forward to is not known
            keep = _lineage(task, line, self.keep_ancestors) | {
                stored_reference(self.root, path) for path in keep if path is not None}
            others = [v for v in task.versions if v.file not in keep]
            drop, failed = [], []
            for v in others[:max(0, len(others) - self.keep_candidates)]:
                try:
                    self._remove_file(task, v)
                except FileError as exc:  # kept, with its entry: the next prune tries again
                    failed.append(f"{exc}; kept, deleted at a later prune")
                else:
                    drop.append(v)
            self.not_pruned = "; ".join(failed)
            if drop:
                gone = {v.file for v in drop}
                self._save(replace(task, versions=tuple(v for v in task.versions
                                                        if v.file not in gone)))
            return [v.file for v in drop]

    def delete(self, stored: str) -> None:
        """Delete one version (Model > Versions); ``ValueError`` for the model in use."""
        with self._lock:
            task = self._required_task()
            version = task.version_of(stored)
            if version is None:
                raise ValueError(f"{stored} is not a version of task {task.name}")
            if stored == task.model:
                raise ValueError(f"{version.name} is in use: put another version into use "
                                 "before deleting it")
            self._remove_file(task, version)
            self._save(replace(task, versions=tuple(v for v in task.versions
                                                    if v.file != stored)))

    def _remove_file(self, task: Task, version: ModelVersion) -> None:
        """Only files the task made (in its models folder, named after it) are deleted."""
        path = model_file(self.root, version.file)
        folder = models_folder(self.root, task, self.user_models)
        if path.parent.resolve() == folder.resolve() \
                and _numbers(task.model_stem, [path.name.split(".")[0]]):
            try:
                _remove_model(path)
            except OSError as exc:  # e.g. open in another program (Windows)
                raise FileError(path, f"cannot delete it ({exc.strerror or exc})") from exc

    def trained_keys(self) -> set[str]:
        """The images the task's versions whose files are still there trained on (their
        headers' ``data_summary``)."""
        keys: set[str] = set()
        for summary in self._summaries():
            keys.update(str(key) for key in summary["train_keys"])
        return keys

    def trained_masks(self) -> dict[str, str]:
        """Image -> the sha1 of the mask the newest of those versions that trained on it
        learnt (as its header records it; versions that record none are passed over)."""
        masks: dict[str, str] = {}
        for summary in self._summaries():
            digests = summary.get("mask_sha1")
            if isinstance(digests, dict):
                masks.update({str(k): str(digests[k]) for k in summary["train_keys"]
                              if isinstance(digests.get(k), str)})
        return masks

    def _summaries(self) -> Iterator[dict]:
        """The ``data_summary`` of each version whose file is there, oldest first."""
        task = self.task
        for version in task.versions if task is not None else ():
            summary = (model_metadata(self.path_of(version.file)) or {}).get("data_summary")
            if isinstance(summary, dict) and isinstance(summary.get("train_keys"), list):
                yield summary

    # --- the frozen validation set ----------------------------------------------------------------
    def holdout(self, labelled: Iterable[str]) -> tuple[str, ...]:
        """The folder's validation images, after noting ``labelled`` (every k-th new one joins,
        chosen once): no run of this folder trains on them."""
        def note_all(record):
            for key in labelled:
                record = record.with_corrected(key)
            return record

        return record_store(record_path(self.root)).update(note_all).validation


def _with_validation_set(version: ModelVersion, validated: bool | None,
                         validation_images: int | None) -> ModelVersion:
    """A loop round's entry counts every labelled image of the round, as a fine-tune's does:
    its file counts the images it trained on, the gate's validation set comes on top; a set
    too small to judge (not validated) is held back, not validating."""
    count = validation_images or 0
    total = version.corrected_images + count
    if validated is False:
        return replace(version, corrected_images=total, validation_images=0, held_back=count)
    return replace(version, corrected_images=total, held_back=0)


def _fits(model_path: Path, task: Task) -> bool:
    """``model_path`` predicts the stored values of ``task``'s classes, in any order (a rename
    aside: the task's own model keeps its old names until a run carries the new ones)."""
    scheme = model_scheme(model_path)
    return scheme is None or scheme.same_value_set(task.scheme)


def _lineage(task: Task, stored: str | None, ancestors: int) -> set[str]:
    """``stored`` (the model in use) and its ``ancestors`` nearest ancestors (by the parent
    version ids of the task's versions)."""
    by_version = {v.version: v for v in task.versions}
    keep: set[str] = set()
    current = task.version_of(stored) if stored else None
    if stored:
        keep.add(stored)
    seen: set[str] = set()
    while current is not None and current.version not in seen and len(seen) <= ancestors:
        seen.add(current.version)
        keep.add(current.file)
        current = by_version.get(current.parent) if current.parent else None
    return keep


def _numbers(stem: str, names: Iterable[str]) -> list[int]:
    pattern = re.compile(re.escape(stem) + r"-v(\d+)(?:-\d+)?")
    return [int(m.group(1)) for name in names if (m := pattern.fullmatch(name))]


def _reservation(out: Path) -> Path:
    return out.with_name(out.name + RESERVED)


def _reserve(out: Path) -> None:
    """Create ``out``'s reservation exclusively (``FileExistsError``), naming this process."""
    fd = os.open(_reservation(out), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(LockHolder.me().to_dict(), f)
    except OSError:  # e.g. a full disk: an empty reservation would hold the number for good
        _reservation(out).unlink(missing_ok=True)
        raise


def _remove_stale_reservations(folder: Path, orphan: Callable[[Path], bool]) -> None:
    """Reservations of processes of this host that no longer run (a crash, a kill), with the
    model file (and checkpoint) each had begun where ``orphan(out)``: no version names it, so
    nothing would ever remove it."""
    for path in folder.glob(f"*{RESERVED}"):
        holder = read_holder(path)  # None: being written, or made by an older version
        if holder is not None and holder.is_dead:
            out = path.with_name(path.name[:-len(RESERVED)])
            if orphan(out):
                try:
                    _remove_model(out)
                except OSError:  # e.g. open in another program: its reservation stays
                    continue
            path.unlink(missing_ok=True)


def _remove_model(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.with_suffix(".ckpt").unlink(missing_ok=True)  # ml.training.checkpoint.checkpoint_path


# --- one owner per folder of this process ---------------------------------------------------------
_OWNERS: dict[str, FolderModels] = {}
_OWNERS_LOCK = threading.Lock()


def is_a_task_version(path: Path, user_models: str | os.PathLike) -> bool:
    """``path`` names a version file of some task: ``<task>-v<n>.safetensors`` in a folder's
    task models folder or in the user models folder (a task there records, prunes and rolls
    back to it)."""
    if not _VERSION_FILE.fullmatch(path.name):
        return False
    folder = path.resolve().parent
    in_a_folder = folder.name == TASK_MODELS_DIR and folder.parent.name == MANIFEST_DIR
    return in_a_folder or folder == Path(user_models).resolve()


def folder_models(root: str | os.PathLike, user_models: str | os.PathLike) -> FolderModels:
    """The owner of ``root``'s models in this process (made on first use)."""
    key = os.path.realpath(root)
    with _OWNERS_LOCK:
        owner = _OWNERS.get(key)
        if owner is None:
            owner = _OWNERS[key] = FolderModels(root, user_models)
        else:
            owner.user_models = Path(user_models)
        return owner
