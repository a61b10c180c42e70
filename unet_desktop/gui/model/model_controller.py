"""Which model predicts: the current one, the previous one (toggle to compare, roll back), where.

:class:`ModelSlots` is the Qt-free state (thread-safe: the worker reads it before every job);
:class:`ModelController` loads models on the worker thread and swaps them in between two jobs
(a running prediction finishes with the model it started with and says so by its version).
The window reads :class:`ModelsShown`, what it was last told (``model_changed``): it changes on
the UI thread as the signal goes out, never earlier on the worker.
Torch is imported only on the worker thread or when the device list is asked for.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from unet_desktop.core.io import paths
from unet_desktop.gui.worker import DONE, Job, Priority, Worker
from unet_desktop.ml.inference.prediction_options import MODES, PredictionOptions

__all__ = ["MODES", "LoadedModel", "ModelController", "ModelFileGone", "ModelSlots",
           "PredictionOptions"]


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A model ready to predict: ``predictor`` (used on the worker thread only) and its file."""

    predictor: Any  # a ResilientPredictor around a Predictor
    path: Path | None  # None for a model that was never saved (benchmarks, tests)

    @property
    def meta(self) -> Any:
        return self.predictor.meta

    @property
    def version(self) -> str:
        return self.meta.version

    @property
    def label(self) -> str:
        """Short human description: name (or file name) and version."""
        name = self.meta.name or (self.path.stem if self.path else "unsaved model")
        return f"{name} ({self.version})"


@dataclass(eq=False)
class PendingLoad:
    """A load asked for and not finished: the worker installs its model unless Roll Back
    dropped it first (both under :class:`ModelSlots`' lock, so exactly one of them happens).
    Roll Back drops only a ``run_result`` (a version a run just recorded as in use) loading for
    the folder open now (``folder``)."""

    target: Path
    run_result: bool = False
    folder: Any = None
    dropped: bool = False
    installed: bool = False
    folders_own: bool = False  # the model of a folder as it opens: the one before is no previous
    # set by the install: the model swapped in and the slots before it (to withdraw it), and
    # whether it was withdrawn (another folder opened before the window heard of it)
    model: LoadedModel | None = None
    before: tuple[LoadedModel | None, LoadedModel | None, bool] | None = None
    withdrawn: bool = False


@dataclass(frozen=True)
class ModelsShown:
    """The models as the window was last told of them: a copy of :class:`ModelSlots` taken on
    the UI thread as ``model_changed`` goes out. Between a worker's swap and that signal the
    worker predicts with the new model while the window still shows (and reads) this one."""

    current: LoadedModel | None = None
    previous: LoadedModel | None = None
    use_previous: bool = False

    @property
    def active(self) -> LoadedModel | None:
        return self.previous if self.use_previous and self.previous else self.current


class ModelFileGone(Exception):
    """The model Roll Back would bring back has no file any more (deleted outside the app):
    the task could not record it as in use. The message names the model and the file."""


class ModelSlots:
    """Current and previous model and which of them predicts (Qt-free, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: LoadedModel | None = None
        self.previous: LoadedModel | None = None
        self.use_previous = False

    def active(self) -> LoadedModel | None:
        with self._lock:
            return self.previous if self.use_previous and self.previous else self.current

    def shown(self) -> ModelsShown:
        """A copy of the slots for the window (read under the lock: one consistent state)."""
        with self._lock:
            return ModelsShown(self.current, self.previous, self.use_previous)

    def install(self, model: LoadedModel, load: PendingLoad | None = None) -> bool:
        """``model`` becomes current; the old current becomes previous (unless it is the same
        version, e.g. the same file loaded again). Not if ``load`` was dropped: False."""
        with self._lock:
            if load is not None:
                if load.dropped:
                    return False
                load.installed = True
                load.model = model
                load.before = (self.current, self.previous, self.use_previous)
            if load is not None and load.folders_own:  # C and Roll Back stay in the folder
                self.previous = None
            elif self.current is not None and self.current.version != model.version:
                self.previous = self.current
            self.current = model
            self.use_previous = False
            return True

    def drop(self, loads: list[PendingLoad]) -> list[PendingLoad]:
        """Mark the ``loads`` not installed yet as dropped (never installed); returns them.
        The current model predicts, as an install would have made it."""
        with self._lock:
            dropped = [load for load in loads if not load.installed]
            for load in dropped:
                load.dropped = True
            if dropped:
                self.use_previous = False
            return dropped

    def withdraw(self, loads: list[PendingLoad]) -> None:
        """Take the models of the installed ``loads`` (in the order they were installed) out of
        the slots again: the slots go back to what they were before each; a model a later
        install made previous gives way to the one that was current before it."""
        with self._lock:
            for load in reversed(loads):
                load.withdrawn = True
                if self.current is load.model:
                    self.current, self.previous, self.use_previous = load.before
                elif self.previous is load.model:
                    before = load.before[0]
                    self.previous = before if before is not self.current else None
                    self.use_previous = self.use_previous and self.previous is not None

    def toggle(self) -> LoadedModel:
        """Predict with the other model; raises ``LookupError`` without a previous model."""
        with self._lock:
            if self.previous is None:
                raise LookupError("there is no previous model to compare with")
            self.use_previous = not self.use_previous
            return self.previous if self.use_previous else self.current

    def rollback(self, check: Callable[[LoadedModel], None] | None = None) -> LoadedModel:
        """Make the previous model current again (the rejected one becomes previous). ``check``
        (raising to refuse) sees the previous model under the lock: the worker may swap a model
        in, and so change which one is previous, at any moment."""
        with self._lock:
            if self.previous is None:
                raise LookupError("there is no previous model to roll back to")
            if check is not None:
                check(self.previous)
            self.current, self.previous = self.previous, self.current
            self.use_previous = False
            return self.current

    def replace(self, old: LoadedModel, new: LoadedModel) -> None:
        """Put ``new`` where ``old`` is (the same model moved to another device)."""
        with self._lock:
            if self.current is old:
                self.current = new
            if self.previous is old:
                self.previous = new

    def loaded(self) -> list[LoadedModel]:
        with self._lock:
            return [m for m in (self.current, self.previous) if m is not None]


@dataclass(frozen=True)
class DeviceChoice:
    name: str  # what pick_device accepts: auto, cuda:N, mps, cpu
    label: str  # what the user reads


def device_choices() -> list[DeviceChoice]:
    """Automatic, every CUDA GPU with its name and memory, Apple MPS if present, the CPU."""
    import torch

    from unet_desktop.ml.device import mps_available, pick_device

    choices = [DeviceChoice("auto", f"Automatic ({pick_device('auto')})")]
    for i in range(torch.cuda.device_count()):
        props = torch.cuda.get_device_properties(i)
        choices.append(DeviceChoice(
            f"cuda:{i}", f"GPU {i}: {props.name} ({props.total_memory / 2**30:.0f} GiB)"))
    if mps_available():
        choices.append(DeviceChoice("mps", "Apple GPU (MPS)"))
    choices.append(DeviceChoice("cpu", f"CPU ({os.cpu_count() or 1} cores)"))
    return choices


class ModelController(QObject):
    """Loads, swaps and moves models on the worker thread; the UI listens to the signals."""

    model_changed = Signal(object)  # the LoadedModel that predicts now (on the UI thread)
    load_failed = Signal(str)  # a message naming the file and the reason
    message = Signal(str)  # e.g. out-of-memory fallbacks, for the status bar
    predictions_invalidated = Signal()  # settings that change every output (mode, TTA) changed
    device_changed = Signal(str)  # the models moved to this device (after the move succeeded)
    loading_changed = Signal()  # a load was asked for, finished or dropped (``loading``)

    def __init__(self, worker: Worker, device: str = "auto", mode: str = "resize",
                 parent: QObject | None = None, tta: bool = False) -> None:
        super().__init__(parent)
        self.worker = worker
        self.slots = ModelSlots()  # what the worker predicts with
        self.shown = ModelsShown()  # what the window was told (UI thread; see _on_changed)
        # owned here, on the UI thread; each job gets the value current when it was submitted
        self.options = PredictionOptions(mode, tta, device)
        # the device read from the settings (None once one is chosen here): saved on another
        # machine maybe (a home folder shared by GPU and CPU nodes), so a load falls back from it
        self._saved_device: str | None = device
        self._loads: dict[Job, PendingLoad] = {}  # not finished nor dropped (UI thread)
        # the folder open now (any object standing for it; the editing session owns it, the
        # window sets this): a load asked for in one folder never lands in the next
        self.open_folder: Callable[[], Any] = lambda: None

    @property
    def device_name(self) -> str:
        return self.options.device

    @property
    def mode(self) -> str:
        return self.options.mode

    @property
    def tta(self) -> bool:
        return self.options.tta

    # --- queries (UI thread: the models as the window was told of them) ------------------------
    @property
    def active(self) -> LoadedModel | None:
        """The model the window shows as predicting; a worker job reads ``slots.active()``."""
        return self.shown.active

    @property
    def active_version(self) -> str | None:
        model = self.shown.active
        return model.version if model else None

    @property
    def current(self) -> LoadedModel | None:
        return self.shown.current

    @property
    def previous(self) -> LoadedModel | None:
        """The model C compares with and Roll Back brings back."""
        return self.shown.previous

    def files_held(self) -> list[Path]:
        """The files of the models in memory (current and previous: C and Roll Back go to
        them), which no pruning may delete."""
        return [m.path for m in self.slots.loaded() if m.path is not None]

    @property
    def loading(self) -> bool:
        """A model load was asked for and has not finished (it may still fail)."""
        return bool(self._loads)

    @property
    def loading_run_result(self) -> bool:
        """A run's result is loading for the folder open now (Roll Back may reject it)."""
        return any(self.rejectable(load) for load in self._loads.values())

    @property
    def using_previous(self) -> bool:
        return self.shown.use_previous and self.shown.previous is not None

    def start_in(self, owner: Any) -> Any:
        """What the next run of ``owner``'s folder (``ml.loop.folder_models.FolderModels``) starts
        from, given the model in use (``FileError`` if the folder has no task)."""
        current = self.shown.current
        if current is None:
            return owner.starting_point(None, None)
        return owner.starting_point(current.path, current.meta.scheme, current.label)

    # --- loading (worker thread) ----------------------------------------------------------------
    def load(self, path: str | os.PathLike | None = None, folder_bound: bool = True,
             run_result: bool = False, folders_own: bool = False) -> Job:
        """Load a model file (None = the shipped default) and make it current. The shipped
        default is loaded by its file, like any other: fine-tuning, roll back, Save As and a
        task's record of the model in use all need the file. A load asked for while a folder is
        open (``folder_bound``: all but the start-up model's) is dropped if another folder was
        opened before it finished: it was that folder's (a promoted round, Model > Open, a
        version), and the folder open now has its own model. One the worker swapped in before
        that folder opened is taken out again before anything is announced there (the window
        heard nothing of it). ``run_result``: the version a run
        (a promoted round, a fine-tune) just put into use, which Roll Back may reject while it
        loads; any other load (a folder's own model, one the user chose) it waits for.
        ``folders_own``: the task's model of a folder as it opens; the model before it (another
        folder's) is then no previous model, so C and Roll Back never bring it into this one."""
        target = Path(path) if path is not None else paths.default_model_path()
        options = self.options
        saved = options.device if options.device == self._saved_device else None
        folder = self.open_folder() if folder_bound else None
        fell_back: list[str] = []  # the note of a saved device missing here (worker -> UI)
        pending = PendingLoad(target, run_result, folder, folders_own=folders_own)

        def load_job(token) -> LoadedModel | None:
            from unet_desktop.ml.api import load_model

            device = options.device
            if saved is not None:
                device, note = _device_here(saved)
                fell_back.extend([note] if note else [])
            model = self._wrap(load_model(target, device=device, mode=options.mode,
                                          tta=options.tta), target)
            if folder is not None and self.open_folder() is not folder:
                return None  # its folder was closed meanwhile
            # the swap, between two jobs of this thread
            return model if self.slots.install(model, pending) else None

        def on_result(model: LoadedModel | None) -> None:
            if fell_back and self.options.device == saved:  # later loads too (not saved)
                self.options = replace(self.options, device="auto")
                self._saved_device = None
            self._withdraw_other_folders()  # swapped in, and another folder opened since
            if pending.dropped:
                pass  # by Roll Back, which said so
            elif model is None or pending.withdrawn:
                self.message.emit(f"{target.name} not put into use: the folder it was loaded "
                                  "for was closed meanwhile")
            else:
                self._on_changed(model)
            for note in fell_back:  # after 'Predicting with...', so that it is read
                self.message.emit(note)

        job = self._control(load_job, "load model", on_finished=self._on_load_finished,
                            on_result=on_result)
        self._loads[job] = pending
        self.loading_changed.emit()
        return job

    def _withdraw_other_folders(self) -> None:
        """The worker swapped in models loaded for a folder that is no longer open, before the
        window heard of them (UI thread): they go out of the slots again, unannounced, so that
        no other folder (nor its task) ever has them in use."""
        folder = self.open_folder()
        stale = [load for load in self._loads.values() if load.installed and not load.withdrawn
                 and load.folder is not None and load.folder is not folder]
        if stale:
            self.slots.withdraw(stale)

    def _on_load_finished(self, job: Job) -> None:
        if self._loads.pop(job, None) is not None:
            self.loading_changed.emit()

    def drop_loads(self, loads: list[PendingLoad] | None = None) -> list[Path]:
        """Drop the ``loads`` (default: all) not finished (their models are never put into use;
        one not started never starts); returns their files. A load that already swapped its
        model in (its result not yet here) is not dropped."""
        dropped = self.slots.drop(list(self._loads.values()) if loads is None else loads)
        for job in [job for job, load in self._loads.items() if load in dropped]:
            job.cancel()
            del self._loads[job]
        if dropped:
            self.loading_changed.emit()
        return [load.target for load in dropped]

    def install(self, predictor: Any, path: str | os.PathLike | None = None) -> Job:
        """Make an already built predictor current (a model made in memory, tests)."""

        def install_job(token) -> LoadedModel:
            model = self._wrap(predictor, Path(path) if path is not None else None)
            self.slots.install(model)
            return model

        return self._control(install_job, "install model")

    def set_device(self, name: str) -> Job:
        """Move the loaded models to ``name`` (auto, cuda:N, mps, cpu); ``device_changed`` once
        they moved, ``load_failed`` (and the old device kept) when they could not."""
        before = self.options
        self.options = options = replace(before, device=name)
        self._saved_device = None  # chosen here: a load fails rather than falls back from it

        def move_job(token) -> LoadedModel | None:
            from unet_desktop.ml.device import pick_device

            device = pick_device(name)  # ValueError names a missing device
            for old in self.slots.loaded():
                self.slots.replace(old, self._wrap(_rebuilt(old.predictor.inner, device, options),
                                                   old.path))
            return self.slots.active()

        def on_finished(job: Job) -> None:
            if job.state == DONE:
                self.device_changed.emit(name)
            elif self.options is options:  # nothing changed it since: back to the old device
                self.options = before

        return self._control(move_job, "change device", on_finished=on_finished)

    def set_mode(self, mode: str) -> Job:
        """``resize`` (at the model's training scale) or ``tile`` (native resolution)."""
        return self._set_output_options(replace(self.options, mode=mode), "change mode")

    def set_tta(self, enabled: bool) -> Job:
        """Average every prediction over flips (steadier masks, 3x the work) or not."""
        return self._set_output_options(replace(self.options, tta=bool(enabled)),
                                        "change flip averaging")

    def _set_output_options(self, options: PredictionOptions, job_name: str) -> Job:
        """Options that change every output, for the loaded models and those loaded later (a
        load submitted after this call uses them too); cached predictions are invalidated."""
        self.options = options

        def option_job(token) -> LoadedModel | None:
            for model in self.slots.loaded():
                options.apply(model.predictor.inner)
            return self.slots.active()

        return self._control(option_job, job_name,
                             on_finished=lambda job: self.predictions_invalidated.emit())

    def _wrap(self, predictor: Any, path: Path | None) -> LoadedModel:
        from unet_desktop.ml.inference.oom import ResilientPredictor

        if isinstance(predictor, ResilientPredictor):
            predictor = predictor.inner
        return LoadedModel(ResilientPredictor(predictor, self.message.emit), path)

    def _control(self, fn, name: str, on_finished=None, on_result=None) -> Job:
        return self.worker.submit(fn, Priority.CONTROL, name=name,
                                  on_result=on_result or self._on_changed,
                                  on_error=self.load_failed.emit, on_finished=on_finished)

    # --- switching (UI thread, instant) ---------------------------------------------------------
    def toggle_previous(self) -> bool:
        """Predict with the previous model (or back with the current); False if there is none,
        or while a model is loading (it becomes current: C would compare the wrong pair)."""
        if self.loading:
            coming = list(self._loads.values())[-1].target.name
            self.message.emit(f"{coming} is still loading: C compares it with the model before "
                              "it once it is in use")
            return False
        try:
            model = self.slots.toggle()
        except LookupError as exc:
            self.message.emit(str(exc))
            return False
        self._on_changed(model)
        return True

    def rollback(self) -> bool:
        """Make the previous model current again; False if there is none. While a run's result
        is loading (a promoted round's version, a fine-tune's), Roll Back drops that load
        instead: the model in use stays, and is announced again (the task records it as in use).
        While any other model is loading (a folder's own, one the user opened), it waits.
        Raises ``ModelFileGone`` when the previous model's file was deleted (nothing changes)."""
        self._withdraw_other_folders()
        if self._loading_beyond_rollback():
            return False
        if self._rollback_loads():
            return True
        try:
            model = self.slots.rollback(_refuse_if_file_gone)
        except LookupError as exc:
            self.message.emit(str(exc))
            return False
        self.message.emit(f"Rolled back to {model.label}")
        self._on_changed(model)
        return True

    def rejectable(self, load: PendingLoad) -> bool:
        """Whether Roll Back may drop ``load``: a run's result for the folder open now."""
        return load.run_result and load.folder is not None and load.folder is self.open_folder()

    def _loading_beyond_rollback(self) -> bool:
        """A load Roll Back must not drop is on its way (a folder's own model, one the user
        chose): True, and it says so. Roll Back would reject the wrong model (another folder's
        would become this folder's task model), or that load would replace its outcome."""
        waiting = [load for load in self._loads.values()
                   if not self.rejectable(load) and not load.installed]
        if not waiting:
            return False
        self.message.emit(f"{waiting[-1].target.name} is still loading: Roll Back is possible "
                          "once it is in use")
        return True

    def _rollback_loads(self) -> bool:
        """Drop the run results loading, if every one of them can be (none has swapped its
        model in yet); True if the model in use stays."""
        loads = [load for load in self._loads.values() if self.rejectable(load)]
        if not loads or self.slots.current is None:  # no model to stay in use
            return False
        dropped = self.drop_loads(loads)
        if len(dropped) < len(loads):  # one swapped its model in: Roll Back from that one
            return False
        current = self.slots.current
        self._on_changed(current)
        names = ", ".join(path.name for path in dropped)
        self.message.emit(f"Rolled back to {current.label}: {names} was still loading and is "
                          "not put into use")
        return True

    def _on_changed(self, model: LoadedModel | None) -> None:
        """Tell the window (UI thread): what it reads changes now, with the signal."""
        self._withdraw_other_folders()
        self.shown = self.slots.shown()
        self.model_changed.emit(self.shown.active)


def _refuse_if_file_gone(model: LoadedModel) -> None:
    """Roll Back never brings back a model whose file was deleted outside the app: the task
    would record a missing file as in use."""
    if model.path is not None and not model.path.is_file():
        raise ModelFileGone(f"Cannot roll back to {model.label}: its file {model.path} is gone "
                            "(C still compares with it)")


def _device_here(saved: str) -> tuple[str, str | None]:
    """The device to load on for the device ``saved`` in the settings (worker thread): that one
    when this machine has it, else ``auto`` and a note saying so (the setting is kept, for the
    machines that have it)."""
    from unet_desktop.ml.device import pick_device

    try:
        pick_device(saved)
    except ValueError as exc:
        return "auto", (f"The device saved in the settings, {saved}, is not usable on this "
                        f"machine ({exc}): the model runs on {pick_device('auto')} instead "
                        "(Model > Device chooses another)")
    return saved, None


def _rebuilt(predictor: Any, device: Any, options: PredictionOptions) -> Any:
    """A fresh predictor of the same network on ``device`` (batch and tile sizes reset).

    The network moves, it is not copied: each predictor owns its own (a batch run copies it)."""
    import torch

    from unet_desktop.ml.inference.predictor import Predictor

    return Predictor(predictor.model.to(device), predictor.meta, device, options.mode,
                     options.tta, fuse_bn=False,
                     channels_last=predictor.memory_format == torch.channels_last)
