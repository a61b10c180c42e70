"""File > Batch Predict Folder... and Training > Fine-tune on Corrected Images...

Both are long jobs on the worker thread (the window keeps getting its own predictions between
their steps). A batch run over the open folder never writes the image on screen nor one with
unsaved edits (the session's :meth:`~EditingSession.is_protected`); it refreshes the file list
as masks are written.

The fine-tune is a run of the folder's model owner (``ml.loop.folder_models``; a folder with
something to learn from and no task gets one first, as Learn as I Correct makes it): its version
name is allocated there, it never trains on the folder's frozen validation set, a learning round
that is training gives way (cancelled, and the message says which) and none starts beside it, and
the finished model is recorded in the folder it was trained for, put into use there only while
the model it started from still is, and loaded only if that folder is still the one open (the
old one stays "previous": compare with C, roll back from the Model menu). It starts from the
model in use, or from the ImageNet-pretrained encoder when the user unchecks "Start from" (still
the task's next version). Start checks what the dialog was planned from (:class:`PlanBasis`):
the run is planned again when the model in use changed while it was open (as the window knows
it: a round put into use, Roll Back, Model > Open, also from one model that cannot label the
task to another), and none starts, saying why, when another folder was opened or the folder's
classes or corrected images changed (the dialog counted and named them).
A read-only window (another process writes the folder) refuses. A folder that cannot be written
(a read-only share) gets no task: its fine-tune goes to the user's models folder, as before
tasks, and is loaded only while that folder is open. Quitting stops a run as Cancel does, its
best model so far recorded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QWidget

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.learning_record import record_path, record_store
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.core.io.paths import same_folder
from unet_desktop.gui.editing.session import EditingSession
from unet_desktop.gui.model.batch_predict_dialog import BatchPredictDialog
from unet_desktop.gui.model.model_actions import ModelActions
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.task.read_only import read_only_reason
from unet_desktop.gui.training.finetune_dialog import FinetuneDialog
from unet_desktop.gui.training.finetune_plan import PlanBasis, TaskPlan
from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.gui.worker import Job
from unet_desktop.ml.loop.folder_models import FolderModels, RunBusy, RunPlan, folder_models

log = logging.getLogger(__name__)
STOP_BATCH_S = 30.0  # how long opening a folder waits for a batch run writing it to stop


class TrainingCommands(QObject):
    """Opens the batch-predict and fine-tune dialogs and follows their runs."""

    message = Signal(str)
    error = Signal(str)
    entry_changed = Signal(object)  # key of an image whose mask a batch run wrote

    def __init__(self, actions: ModelActions, models: ModelController, session: EditingSession,
                 training_dock: TrainingDock, models_folder: Path, dialog_parent: QWidget,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.models = models
        self.session = session
        self.training_dock = training_dock
        self.models_folder = Path(models_folder)
        self._dialog_parent = dialog_parent
        self.batch_dialog: BatchPredictDialog | None = None
        self.finetune_dialog: FinetuneDialog | None = None
        self.config_overrides: dict[str, Any] = {}  # TrainConfig fields the dialog does not show
        self._runs: dict[str, RunPlan] = {}  # output file -> the task's run it belongs to
        self._renamed: set[str] = set()  # outputs of runs from the task's renamed-class model
        # the open folder's task, made from its classes if it has none (TaskController.ensure_task):
        # then every fine-tune is a run of the folder's model owner, like a learning round
        self.ensure_task: Callable[[], Any] | None = None
        self._quitting = False  # the window closes: a run's result is recorded, not loaded
        self._trained_for: Path | None = None  # the folder of a run that is no task's
        actions.batch_predict.triggered.connect(self.batch_predict)
        session.folder_opening.connect(self._stop_the_batch_before)
        actions.finetune.triggered.connect(self.finetune)
        actions.show_training.triggered.connect(self._show_training_dock)
        training_dock.model_trained.connect(self._on_model_trained)
        training_dock.training_finished.connect(self._on_training_finished)
        training_dock.training_failed.connect(lambda msg: self.error.emit(
            f"Training failed: {msg}"))
        training_dock.message.connect(self.message)

    # --- batch prediction -----------------------------------------------------------------------
    def batch_predict(self) -> BatchPredictDialog:
        """Show the (modeless) dialog; a new one when the open folder changed and none runs."""
        dialog = self.batch_dialog
        running = dialog is not None and dialog.job is not None and not dialog.job.finished
        if dialog is None or (not running and dialog.workspace is not self.session.workspace):
            if dialog is not None:
                dialog.deleteLater()
            dialog = BatchPredictDialog(self.models, self.session.workspace, self._dialog_parent,
                                        protect=self._is_being_edited)
            dialog.masks_written.connect(self._on_masks_written)
            dialog.run_finished.connect(lambda summary: self.message.emit(summary.headline()))
            self.batch_dialog = dialog
        elif not dialog.isVisible():
            dialog.clear_result()  # the last run's summary went to the status bar
        dialog.show()
        dialog.raise_()
        return dialog

    def _stop_the_batch_before(self, opening: Path) -> None:
        """A run writing masks into the open folder (whose Workspace writes nothing once closed)
        or into the folder about to open (two Workspaces of one folder would write their states
        over each other's) stops now, its images in flight written, before the open folder
        closes; a later run resumes where it stopped."""
        dialog, ws = self.batch_dialog, self.session.workspace
        if dialog is None or dialog.job is None or dialog.job.finished:
            return
        settings = dialog.settings()
        folder = settings.folder
        if settings.output is not None or not any(
                w is not None and same_folder(w.root, folder) for w in (dialog.workspace, ws)) \
                and not same_folder(opening, folder):
            return  # it writes an output folder, or a folder neither open nor opening
        dialog.cancel()
        if not self.models.worker.wait_until_finished(dialog.job, STOP_BATCH_S):
            log.warning("the batch predict of %s did not stop within %.0f s", folder, STOP_BATCH_S)
        # said after the folder's "Opened" (or its error): by then it is known which it was
        QTimer.singleShot(0, lambda: self._say_the_batch_stopped(folder, opening, ws))

    def _say_the_batch_stopped(self, folder: Path, opening: Path, before: Any) -> None:
        if self.session.workspace is before:  # the open failed after the run stopped
            why = f"stopped to open {Path(opening).name}, which could not be opened"
        elif same_folder(opening, folder):
            why = "stopped: the folder was opened again"
        else:
            why = "stopped: another folder was opened"
        self.message.emit(f"Batch predict of {Path(folder).name} {why} (a later run resumes "
                          "where it stopped)")

    def _is_being_edited(self, root: Path, key: str) -> bool:
        """On the batch writer thread: the image on screen, or one with unsaved edits."""
        return self.session.is_protected(key, root)

    def _on_masks_written(self, keys: list[str]) -> None:
        if self.batch_dialog is None or self.batch_dialog.workspace is not self.session.workspace:
            return  # another folder: nothing on screen changed
        current = self.session.current_key
        for key in keys:
            self.entry_changed.emit(key)
            if key == current and self.session.reload_image(key):
                self.message.emit(f"{key}: showing the mask the batch run wrote")

    # --- fine-tuning ----------------------------------------------------------------------------
    def finetune(self) -> FinetuneDialog | None:
        """Save the current edits (they are training data), then ask for the settings."""
        ws = self.session.workspace
        if ws is None:
            self.message.emit("Open a folder with corrected masks first")
            return None
        if ws.lock_holder is not None:  # its models and task.json are the writing window's
            self.message.emit(f"Cannot fine-tune here: {read_only_reason(ws)}")
            return None
        if self.training_dock.running:
            self._show_training_dock()
            self.message.emit("A training run is going; cancel it in the Training dock first")
            return None
        self.session.save("fine-tune")  # the user's edits; a prediction only looked at stays unwritten
        learns = bool(ws.labelled())  # else nothing can start: no task is made for it
        # a folder that cannot be written (a read-only share) has no task run: the model goes
        # to the user's models folder, as before tasks, and is loaded only while it is open
        writable = not ws.read_only
        if learns and writable and self.ensure_task is not None and self.ensure_task() is None:
            return None  # said: every fine-tune is a run of the folder's task
        ws = self.session.workspace
        planned = self.plan_for(ws) if writable else None
        plan, run = planned if planned is not None else (None, None)
        dialog = FinetuneDialog(self.models.active, ws, self.models_folder,
                                self.models.device_name, self._dialog_parent, plan=plan)
        basis = PlanBasis.of(ws, self.models.current)
        dialog.accepted.connect(lambda: self._start_training(dialog, run, basis))
        dialog.finished.connect(lambda result: self._forget_finetune_dialog(dialog, run, result))
        self.finetune_dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        return dialog

    def plan_for(self, ws: Any) -> tuple[TaskPlan, RunPlan] | None:
        """The next fine-tune of ``ws``'s task, its version name reserved by the folder's model
        owner (None: the folder has no task, or the name cannot be reserved: said)."""
        if ws is None or ws.task is None:
            return None
        owner = self._owner(ws)
        try:
            start = self.models.start_in(owner)
            run = owner.plan_run("manual", start.path)
            holdout = owner.holdout([e.key for e in ws.labelled()])
            every_k = record_store(record_path(ws.root)).read().every_k
        except FileError as exc:
            self.error.emit(f"Cannot plan the fine-tune: {exc}")
            return None
        if start.renamed:
            self._renamed.add(os.path.realpath(run.out))
        return TaskPlan(run.out, run.name, start.path, start.new_classes, start.origin,
                        scale=ws.task.scale, input_rule=ws.task.input_rule or None,
                        holdout=holdout, every_k=every_k), run

    def _owner(self, ws: Any) -> FolderModels:
        return folder_models(ws.root, self.models_folder)

    def _forget_finetune_dialog(self, dialog: FinetuneDialog, run: RunPlan | None,
                                result: int) -> None:
        if self.finetune_dialog is dialog:
            self.finetune_dialog = None
        if run is not None and result != QDialog.DialogCode.Accepted:  # never started
            self._renamed.discard(os.path.realpath(run.out))
            folder_models(run.root, self.models_folder).discard(run)
        dialog.deleteLater()  # one dialog per fine-tune: none piles up

    def _start_training(self, dialog: FinetuneDialog, run: RunPlan | None = None,
                        basis: PlanBasis | None = None) -> Job | None:
        ws = self.session.workspace
        changed = self._changed_since(basis) if basis is not None else ""
        if changed:
            self.error.emit(f"Cannot start training: {changed} while the Fine-tune dialog was "
                            "open; open it again")
            if run is not None:
                self._renamed.discard(os.path.realpath(run.out))
                folder_models(run.root, self.models_folder).discard(run)
            return None
        replanned = ""
        if run is not None:
            run, replanned = self._plan_again_if_stale(dialog, run, basis)
            if run is None:
                return None
        overrides = dict(self.config_overrides)
        from_current = dialog.settings().from_current
        if run is not None:  # the folder's frozen validation set, as the dialog named it
            overrides.setdefault("holdout", dialog.plan.holdout)
            if os.path.realpath(run.out) in self._renamed:
                self._renamed.discard(os.path.realpath(run.out))
                overrides["renamed_classes"] = from_current
            if not from_current:  # a new model from the encoder: a version with no parent
                run = replace(run, parent=None)
        try:
            config = dialog.config(**overrides)
        except ValueError as exc:
            self.error.emit(f"Cannot start training: {exc}")
            if run is not None:
                folder_models(run.root, self.models_folder).discard(run)
            return None
        try:
            gave_way = self._take_the_folder(run) if run is not None else ""
        except RunBusy as exc:
            self.error.emit(f"Cannot start training: {exc}; wait for it to finish")
            folder_models(run.root, self.models_folder).discard(run)
            return None
        config.out.parent.mkdir(parents=True, exist_ok=True)
        job = self.training_dock.start(ws, config)
        self._show_training_dock()
        if job is None:
            if run is not None:
                folder_models(run.root, self.models_folder).discard(run)
            return None
        if run is not None:
            self._runs[os.path.realpath(run.out)] = run
        self._trained_for = ws.root if run is None else None
        self.message.emit(f"Fine-tuning into {config.out.name}...{replanned}{gave_way}")
        return job

    def _changed_since(self, basis: PlanBasis) -> str:
        """What changed in the open folder that the Fine-tune dialog planned for ("": nothing)."""
        ws = self.session.workspace
        if ws is None:
            return "the folder was closed"
        return basis.data_changes(PlanBasis.of(ws, self.models.current))

    def _plan_again_if_stale(self, dialog: FinetuneDialog, run: RunPlan,
                             basis: PlanBasis | None = None) -> tuple[RunPlan | None, str]:
        """The run planned when the dialog opened, or a new plan when the model in use changed
        while it was open (a round promoted, Roll Back, Model > Versions, Model > Open, also
        from one model that cannot label the task to another): a fine-tune starts from the
        model in use when the user says Start, and is put into use over it. Returns the run
        (None: said why not) and what to say about it."""
        owner = folder_models(run.root, self.models_folder)
        try:
            start, task = self.models.start_in(owner), owner.task
        except FileError:
            return run, ""  # said when it is planned or recorded
        current = self.models.current
        in_use = current.path if current is not None else None
        same_use = task is not None and task.model == run.in_use and (
            basis is None or basis.model == in_use  # as the task and the window know it
            or _same_version(basis.model, in_use))  # (this task's copy of the file in use)
        if same_use and start.path != run.parent \
                and _same_version(start.path, run.parent):  # this task's copy of the file
            dialog.plan = replace(dialog.plan, init=start.path)  # (another folder's version)
            return replace(run, parent=start.path), ""
        if same_use and start.path == run.parent:
            return run, ""
        self._renamed.discard(os.path.realpath(run.out))
        owner.discard(run)
        ws = self.session.workspace
        if self.models.loading or ws is None or not same_folder(ws.root, run.root):
            self.error.emit("Cannot start training: the model in use changed while the "
                            "Fine-tune dialog was open; open it again")
            return None, ""
        planned = self.plan_for(ws)
        if planned is None:
            return None, ""  # said
        dialog.plan, run = planned
        now = f" (now {current.label})" if current is not None else ""
        return run, (f" It {dialog.what_it_does()}: the model in use changed while the dialog "
                     f"was open{now}.")

    def _take_the_folder(self, run: RunPlan) -> str:
        """One run at a time per folder: a learning round that trains gives way. Returns what
        to say about it."""
        owner = folder_models(run.root, self.models_folder)
        running = owner.running
        said = ""
        if running is not None and running != run and running.kind == "loop":
            owner.cancel_run(running)
            said = (f" The learning round {running.name} was cancelled (its corrections go "
                    "into the next round, after this fine-tune).")
        owner.begin(run)
        return said

    def stop_for_quit(self, timeout: float) -> None:
        """Quitting during a fine-tune: it stops as Cancel Training does, and the best model it
        saved so far is recorded in its task (as a version; nothing is loaded: the window
        closes). Waits at most ``timeout`` seconds for its current step."""
        job = self.training_dock.job
        if job is None or job.finished:
            return
        self._quitting = True
        self.training_dock.cancel()
        if not self.models.worker.wait_until_finished(job, timeout):
            log.warning("quitting although the fine-tune did not stop within %.0f s (its saved "
                        "model is not recorded in its task)", timeout)
            return
        self.models.worker.deliver_now(job)  # its end: recorded (_record) or discarded

    def _show_training_dock(self) -> None:
        self.training_dock.show()
        self.training_dock.raise_()

    def _on_model_trained(self, path: str) -> None:
        run = self._runs.pop(os.path.realpath(path), None)
        if run is not None:
            self._record(run, Path(path))
            return
        if self.models.worker.stopping:  # the run ended as the window closed
            return
        ws, trained_for = self.session.workspace, self._trained_for
        if trained_for is not None and (ws is None or not same_folder(ws.root, trained_for)):
            self.message.emit(f"Trained {Path(path).name} for {trained_for.name}, saved in "
                              f"{Path(path).parent}: not loaded, another folder is open now "
                              "(Model > Open Model... loads it)")
            return
        self.message.emit(f"Trained {Path(path).name}: loading it (C compares with the "
                          "previous model)")
        self.models.load(path, run_result=True)

    def _record(self, run: RunPlan, path: Path) -> None:
        """A task's fine-tune finished: recorded in its own folder, loaded only there."""
        owner = folder_models(run.root, self.models_folder)
        summary = (model_metadata(path) or {}).get("data_summary") or {}
        ws = self.session.workspace
        here = ws is not None and os.path.realpath(ws.root) == os.path.realpath(run.root)
        # a model being put into use now stays the user's choice; only while the run's folder
        # is open: a load as another folder opens is that folder's model
        chosen = here and self.models.loading
        note = "kept as a candidate: another model was being put into use as it finished"
        try:
            outcome = owner.finish_run(run, path, promote=not chosen, note=note if chosen else "",
                                       validated=summary.get("validated"),
                                       validation_images=summary.get("val_images"),
                                       keep=self.models.files_held())
        except FileError as exc:
            self.error.emit(f"Cannot record {path.name} in its task: {exc}")
            return
        if outcome.not_pruned:  # e.g. a model file open in another program
            self.training_dock.add_to_result(f"{outcome.not_pruned}.")
        if not here:
            self.message.emit(f"Trained {path.name}: recorded in {run.root.name}'s task (another "
                              "folder is open now)")
        elif not outcome.in_use:
            self.message.emit(f"Trained {path.name}: {outcome.note}")
        elif not self.models.worker.stopping and not self._quitting:
            self.message.emit(f"Trained {path.name}: loading it (C compares with the previous "
                              "model)")
            self.models.load(path, run_result=True)

    def _on_training_finished(self, final: Any) -> None:
        """A task's run that kept no model (cancelled, failed) lets the folder go."""
        kept = final is not None and final.model_path is not None
        for key, run in list(self._runs.items()):
            if not kept or os.path.realpath(final.model_path) != key:
                self._runs.pop(key)
                folder_models(run.root, self.models_folder).discard(run)


def _same_version(a: Path | None, b: Path | None) -> bool:
    """Two model files of one version (a task's copy of another folder's version file)."""
    if a is None or b is None:
        return a is None and b is None
    version = (model_metadata(a) or {}).get("version")
    return version is not None and version == (model_metadata(b) or {}).get("version")
