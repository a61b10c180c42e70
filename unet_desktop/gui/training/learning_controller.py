"""Training > Learn as I Correct: the window's side of the learning loop (``ml.loop.learning_loop``).

While it is on (remembered per folder in ``.unet-desktop/learning.json``):

- each image saved as corrected or verified is noted by the folder's :class:`LearningLoop`
  (every k-th one joins the frozen validation set) and a round is asked for: one round runs at a
  time on the worker thread (a long job stepped between predictions); corrections that arrive
  meanwhile merge into one next round;
- an image saved in another state (its correction undone back to a prediction or to no mask
  file) leaves the loop: no later round trains or judges on it, and a validation image frees its
  slot; so does one found so when the folder opens or learning is turned on, and a round uses
  only the images corrected or verified as it starts. A round running meanwhile that uses it
  stops and keeps nothing (one finishing as it is undone is kept only as a candidate), and a new
  round starts without it;
- the prediction the user started from (the last one shown for the image before any edit of
  theirs) is scored against the saved correction on the worker: one point of the curve;
- rounds are runs of the folder's model owner (``ml.loop.folder_models``): it names each version
  once, runs one training of the folder at a time (a round waits while a manual fine-tune
  trains, and starts when it ends; a fine-tune cancels a round, also one whose end has not
  reached the window yet: it keeps nothing, as the fine-tune said), and records a finished round in
  the folder it was trained for, as the model in use only when the gate promoted it, learning is
  still on there and the model it started from is still in use; else as a candidate, and what
  the window says of the round (panel, dock, message, the version's note) says so and why. A version
  put into use in the open folder is loaded and the images not yet corrected after the one on
  screen are predicted again (never a corrected one), and the next round starts from it. A
  round of a folder that is no longer open lets the open folder's rounds start. A round of the
  folder opened again (File > Open, Mask > Classes) keeps nothing, also one that ended as it
  opened: the reopen put the task's model into use.

Rounds start from what the task's next model starts from (``FolderModels.starting_point``:
the model in use when it predicts the task's classes). Turning the loop on in a folder without
a task makes one from the folder's classes and the model in use (its classes mapped onto the
folder's by name when they differ); the versions are kept there. Quitting cancels a running
round after its current step; the masks were saved before (the window saves them first), and a
half-trained version and its reserved name are given back. Turning the loop on, or opening a
folder where it is on, starts a round when a corrected image is in none of the task's versions
(its round was cancelled: learning turned off, the window quit) or its mask changed since the
newest version learnt it (corrected again while learning was off). A window that only reads its
folder changes none of the loop's settings (they are the folder's). A finished run never prunes the
files of the models the window holds (current and previous: C and Roll Back go to them).
A round's progress shows in the training dock's status line too, where Cancel Training stops it:
it keeps nothing, and what it took goes into the round that the next saved correction starts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.image_entry import LABELLED_STATES
from unet_desktop.core.folder.learning_record import LearningRecord, record_path
from unet_desktop.core.folder.manifest import ImageState
from unet_desktop.core.folder.mask_digest import stored_mask_digest
from unet_desktop.core.io.paths import same_folder
from unet_desktop.core.progress import CancelToken, EitherToken
from unet_desktop.gui.editing.image_list_model import shown_name
from unet_desktop.gui.editing.session import EditingSession
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_controller import PredictionController, ShownPrediction
from unet_desktop.gui.model.prediction_service import PredictionService
from unet_desktop.gui.task.read_only import read_only_reason
from unet_desktop.gui.task.task_controller import TaskController
from unet_desktop.gui.training.learning_panel import LearningPanel
from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.gui.worker import FAILED, Job, Priority
from unet_desktop.ml.loop.folder_models import FolderModels, RunBusy, RunPlan, folder_models
from unet_desktop.ml.loop.learning_loop import LearningLoop, LoopSettings, RoundPlan
from unet_desktop.ml.reports import GateReport, RoundResult, SkippedPair, StepReport

REFRESH_LIMIT = 8  # uncorrected images predicted again after a promotion (the next ones)


class LearningController(QObject):
    message = Signal(str)
    error = Signal(str)
    round_finished = Signal(object)  # the RoundResult (None if the round failed)
    point_added = Signal(object)  # a CurvePoint

    def __init__(self, action: QAction, session: EditingSession, models: ModelController,
                 prediction: PredictionController, service: PredictionService,
                 tasks: TaskController, training_dock: TrainingDock,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.action = action
        self.session = session
        self.models = models
        self.prediction = prediction
        self.service = service
        self.tasks = tasks
        self.training_dock = training_dock
        self.worker = models.worker
        self.settings = LoopSettings()  # how rounds train (tests make them tiny)
        self.loop: LearningLoop | None = None  # the open folder's
        self.round_job: Job | None = None
        self._round_run: RunPlan | None = None  # the run of round_job
        self.refreshed: list[str] = []  # the images predicted again after the last promotion
        self._started_from: dict[str, ShownPrediction] = {}  # the image on screen's
        self._refresh_version: str | None = None  # refresh once this version is in use
        self._held = False  # a round was cancelled (Cancel Training): none until the next save
        self._elsewhere_line = ""  # the dock's line on a round of a folder left (or reopened)
        self.panel = LearningPanel()
        training_dock.add_plot(self.panel, stretch=2)  # the loop's curve is what one reads
        action.toggled.connect(self._on_toggled)
        self.panel.target_changed.connect(lambda v: self._change(LearningLoop.set_target, v))
        self.panel.every_k_changed.connect(lambda k: self._change(LearningLoop.set_every_k, k))
        session.workspace_opened.connect(self._on_workspace_opened)
        session.saved.connect(self._on_saved)
        session.document_opened.connect(self._on_document_opened)
        prediction.prediction_shown.connect(self._on_prediction_shown)
        models.model_changed.connect(self._on_model_changed)
        training_dock.training_finished.connect(  # the folder is free again: a waiting round
            lambda _final: QTimer.singleShot(0, self.start_round))
        action.setEnabled(False)

    def _tell(self, text: str) -> None:
        """``message`` with a file name that is not UTF-8 shown whole (``shown_name``): the
        signal's Qt string would drop its bytes."""
        self.message.emit(shown_name(text))

    def _warn(self, text: str) -> None:
        self.error.emit(shown_name(text))

    @property
    def enabled(self) -> bool:
        return self.loop is not None and self.loop.record.enabled

    @property
    def running(self) -> bool:
        return self.round_job is not None and not self.round_job.finished

    # --- the folder and the toggle ----------------------------------------------------------------
    def _on_workspace_opened(self) -> None:
        ws = self.session.workspace
        if self.round_job is not None:
            self.round_job.cancel()  # its folder is gone: a round still training keeps nothing
            self._cancel_reopened_round(ws)
        self._started_from.clear()
        self._held = False
        try:
            self.loop = LearningLoop(ws.scheme, record_path(ws.root), _pair_loader(ws),
                                     self.settings, _mask_digest(ws), _is_labelled(ws))
        except FileError as exc:
            self.loop = None
            self._warn(f"Learning as you correct is unavailable: {exc}")
        self.action.setEnabled(self.loop is not None and not ws.read_only)
        self._show_toggle(self.enabled and not ws.read_only)
        if self.enabled and not ws.read_only:  # corrected meanwhile (loop off, recovered edits)
            self._note_labelled(ws)
            self._request_untrained(ws)
            self.training_dock.reveal()  # the curve so far
            QTimer.singleShot(0, self.start_round)  # once the folder's model is in use
        self.panel.set_settings_editable(not ws.read_only, read_only_reason(ws) or "")
        self._show_record()
        self.panel.show_status(self._opened_status(ws))
        self._replace_elsewhere_line(ws)

    def _cancel_reopened_round(self, ws: Any) -> None:
        """A round of the folder opened again keeps nothing, also one that ended on the worker
        before the window heard of it: the reopen put the task's model into use and the dock
        says the round was cancelled. (A round of a folder left is recorded there.)"""
        run = self._round_run
        if run is not None and same_folder(ws.root, run.root):
            folder_models(run.root, self.tasks.user_models).cancel_run(run)

    def _replace_elsewhere_line(self, ws: Any) -> None:
        """The dock's line on how a round of another (or this) folder ended, still shown once
        no round runs, gives way to this folder's status: it is open now."""
        line, self._elsewhere_line = self._elsewhere_line, ""
        if line and not self.running and self.training_dock.status_label.text() == line:
            self.training_dock.show_round(self._opened_status(ws))

    def _opened_status(self, ws: Any) -> str:
        """Whether learning is on here; in a read-only window, in the window that writes."""
        if not ws.read_only:
            return ("Learning as you correct: on." if self.enabled
                    else "Learning as you correct is off (Training menu).")
        if ws.lock_holder is None:  # no window writes it: the folder cannot be written
            reason = read_only_reason(ws)
            here = f"{reason[0].upper()}{reason[1:]}. Learning and its settings cannot change."
            on = "on in this folder's record" if self.enabled else "off"
            return f"Learning as you correct is {on}. {here}"
        here = "This window only reads the folder: learning and its settings are not changed here."
        if not self.enabled:
            return f"Learning as you correct is off. {here}"
        return ("Learning as you correct is on in the window that writes this folder, "
                f"{ws.lock_holder.describe()}. {here}")

    def _show_toggle(self, on: bool) -> None:
        self.action.blockSignals(True)
        self.action.setChecked(on)
        self.action.blockSignals(False)

    def _on_toggled(self, on: bool) -> None:
        if self.session.workspace is None or self.loop is None:
            self._show_toggle(False)
            self._tell("Open a folder first")
            return
        if on and self.tasks.ensure_task() is None:
            self._show_toggle(False)
            return
        # the task made may leave some files out: the folder then reopened, with a new loop
        # (which showed the toggle off: the record said so then)
        ws, loop = self.session.workspace, self.loop
        if ws is None or loop is None:  # the reopen said why
            self._show_toggle(False)
            return
        if ws.read_only:
            self._show_toggle(self.enabled)
            self._tell(f"Learning as you correct is not changed ({read_only_reason(ws)})")
            return
        try:
            loop.set_enabled(on)
        except FileError as exc:
            self._show_toggle(loop.record.enabled)
            self._warn(f"Cannot change learning as you correct: {exc}")
            return
        self._show_toggle(on)
        self._held = False
        if on:  # what was corrected before counts too (every k-th for validation)
            self._note_labelled(ws)
            self._request_untrained(ws)
        if not on:
            if self.round_job is not None:
                self.round_job.cancel()
            self._show_record()
            self.panel.show_status("Learning as you correct is off.")
            return
        self.training_dock.reveal()
        self._show_record()
        self.panel.show_status("Learning as you correct: a short round of fine-tuning follows "
                               "each corrected image.")
        if loop.round_requested:
            self.start_round()

    def _note_labelled(self, ws: Any) -> None:
        """The record as the folder is now: its corrected images noted, those no longer
        corrected (undone while learning was off) left out first (their slots are free)."""
        undone = [k for k in self.loop.record.corrected
                  if k in ws and ws[k].state not in LABELLED_STATES]
        try:
            self.loop.note_uncorrected(undone)
            self.loop.note_corrected_all([e.key for e in ws.labelled()])
        except FileError as exc:
            self._warn(f"Learning as you correct: {exc}")

    def _request_untrained(self, ws: Any) -> None:
        """A round for the corrected images none of the task's versions trained on (a round
        cancelled by turning learning off or quitting), or whose mask changed since (corrected
        again while learning was off)."""
        owner = self.tasks.owner
        if self.loop is None or owner is None:
            return
        try:
            self.loop.request_untrained([e.key for e in ws.labelled()], owner.trained_keys(),
                                        owner.trained_masks())
        except FileError as exc:
            self._warn(f"Learning as you correct: {exc}")

    def _change(self, setter, value) -> None:
        ws = self.session.workspace
        if self.loop is None:
            return
        if ws is None or ws.read_only:  # the record is the folder's, written by its writer
            why = read_only_reason(ws) or "no folder is open"
            self._tell(f"The learning loop's setting is not changed ({why})")
            self._show_record()
            return
        try:
            setter(self.loop, value)
        except (FileError, ValueError) as exc:
            self._warn(f"Cannot change the learning loop's setting: {exc}")
        self._show_record()

    def _show_record(self) -> None:
        """The curve of the open folder; shown in the dock once the loop was ever on there."""
        ws, loop = self.session.workspace, self.loop
        task = ws.task if ws is not None else None
        names = {v.version: v.name for v in task.versions} if task is not None else {}
        record = loop.record if loop is not None else LearningRecord()
        verified = {e.key for e in ws.labelled((ImageState.VERIFIED,))} if ws is not None else set()
        self.panel.show_record(record, names, verified)
        self.panel.setVisible(record.enabled or bool(record.points))

    # --- corrections ------------------------------------------------------------------------------
    def _on_prediction_shown(self, key: str) -> None:
        """Remember the prediction the user starts from: the last one shown before they edit
        or accept one (a prediction that became the mask by itself is no choice of theirs)."""
        shown = self.prediction.shown
        ws = self.session.workspace
        if shown is None or shown.key != key or ws is None or ws[key].state in LABELLED_STATES \
                or self.session.is_dirty(key):
            return
        self._started_from = {key: shown}

    def _on_document_opened(self) -> None:
        key = self.session.current_key
        self._started_from = {k: v for k, v in self._started_from.items() if k == key}

    def _on_saved(self, key: str, reason: str) -> None:
        ws, loop = self.session.workspace, self.loop
        if not self.enabled or ws is None or key not in ws \
                or loop.record_file != record_path(ws.root):  # recovered before the folder's
            return  # loop exists (the session writes leftovers as it opens the folder)
        if ws[key].state not in LABELLED_STATES:
            self._note_uncorrected(loop, key, ws[key].state)
            return
        try:
            loop.note_corrected(key)
        except FileError as exc:
            self._warn(f"Learning as you correct: {exc}")
            return
        started = self._started_from.pop(key, None)
        if started is not None and not loop.record.has_point(key) and not self.worker.stopping:
            self._score(loop, ws, started)
        self._held = False  # Cancel Training holds rounds until a save: this one, also while
        if self.running:  # the cancelled round ends its step (the next round follows it)
            self.panel.show_status(f"{shown_name(key)} goes into the next round (one is "
                                   "running).")
        else:
            self.start_round()

    def _note_uncorrected(self, loop: LearningLoop, key: str, state: ImageState) -> None:
        """``key`` was saved in ``state`` (its correction undone): no later round uses it."""
        try:
            held = loop.note_uncorrected([key])
        except FileError as exc:
            self._warn(f"Learning as you correct: {exc}")
            return
        if held:
            self._show_record()
            self.panel.show_status(f"{shown_name(key)} is {state.value} now: the learning "
                                   "rounds leave it out.")

    def _score(self, loop: LearningLoop, ws: Any, shown: ShownPrediction) -> None:
        key, labels = shown.key, shown.prediction.labels

        def score_job(token):
            return loop.score_prediction(key, labels, shown.scheme, ws.load_mask(key),
                                         shown.version)

        self.worker.submit(score_job, Priority.PREFETCH, name="learning curve point", tag=key,
                           on_result=lambda point: self._on_point(loop, point),
                           on_error=lambda msg: self._tell(
                               f"{key}: no learning-curve point ({msg})"))

    def _on_point(self, loop: LearningLoop, point: Any) -> None:
        if loop is not self.loop or point is None:
            return
        self._show_record()
        self.point_added.emit(point)

    # --- rounds -----------------------------------------------------------------------------------
    def start_round(self) -> Job | None:
        """Submit a round from the model in use (None if one runs, or nothing asks for one)."""
        if not self._round_due() or self.tasks.ensure_task() is None \
                or not self._round_due():  # ensure_task may have reopened the folder (new loop)
            return None  # a model about to load: the round starts from it once it is in use
        loop = self.loop
        owner = self.tasks.owner
        running = owner.running
        if running is not None:
            self._show_round(f"The next learning round waits for {running.name} to finish "
                             "training.")
            return None
        try:
            start = self.models.start_in(owner)
            run = owner.plan_run("loop", start.path)
            owner.begin(run)
        except (FileError, RunBusy) as exc:
            self._show_round(f"No learning round now: {exc}")
            return None
        description = start.origin
        plan = RoundPlan(start.path, run.out, run.name, self.tasks.task.scale,
                         self.tasks.task.input_rule or None, start.renamed)
        loop.settings = dataclasses.replace(self.settings, device=self.models.device_name)
        results: list[Any] = []  # this round's RoundResult, once it came
        self._round_run = run
        self.round_job = self.worker.submit(
            lambda token: _round_steps(loop, plan, owner, run, token), Priority.BACKGROUND,
            name="learning round",
            on_progress=lambda r: self._on_round_report(r, results, run.name),
            on_error=lambda msg: self._warn(f"A learning round failed: {msg}"),
            on_finished=lambda job: self._on_round_finished(job, loop, run, results))
        self._show_round(f"Learning round {run.name}: {description}, on the corrected "
                         "images...", running=True)
        return self.round_job

    def _round_due(self) -> bool:
        """The open folder's loop asks for a round and nothing holds it back."""
        return self.enabled and not self.running and not self.worker.stopping \
            and not self.models.loading and not self._held and self.loop.round_requested

    def cancel_round(self) -> None:
        """Cancel Training during a round: it stops after its current step and keeps nothing;
        the next round starts with the next saved correction (and takes what this one took)."""
        if self.running:
            self._held = True
            self.round_job.cancel()

    def _show_round(self, text: str, running: bool = False) -> None:
        """A round's progress in the panel and in the training dock's status line, where Cancel
        stops it while it runs."""
        text = shown_name(text)  # the round's reason names images by their keys
        self.panel.show_status(text)
        self.training_dock.show_round(text, self.cancel_round if running else None)

    def _on_round_report(self, report: Any, results: list[Any], name: str) -> None:
        if isinstance(report, RoundResult):
            results.append(report)
        elif isinstance(report, SkippedPair):
            self._tell(f"The learning round skips {report.key}: {report.message}")
        elif isinstance(report, StepReport):
            self._show_round(f"Learning round {name}: step {report.step}, loss "
                             f"{report.loss:.3f}", running=True)
        elif isinstance(report, GateReport):
            self._show_round(f"Learning round {name}: judging the new version on validation "
                             f"image {report.done} / {report.total}", running=True)

    def _on_round_finished(self, job: Job, loop: LearningLoop, run: RunPlan,
                           results: list[Any]) -> None:
        if job is self.round_job:
            self.round_job, self._round_run = None, None
        owner = folder_models(run.root, self.tasks.user_models)
        result = results[-1] if results else None
        kept = result is not None and result.model_path is not None \
            and result.model_path.is_file()
        if kept and run.cancel.cancelled:  # a fine-tune took the folder as it finished: it
            result, kept = _cancelled(loop, result), False  # said this round was cancelled
        if not kept:
            owner.discard(run)
        else:  # recorded in the folder it was trained for, whichever is open now
            result = self._not_put_into_use(loop, result)
            try:
                outcome = owner.finish_run(run, result.model_path, result.promoted,
                                           result.metrics, f"learning loop: {result.reason}",
                                           result.validated, len(result.validation_images),
                                           keep=self.models.files_held())
            except FileError as exc:
                self._warn(f"Cannot record {result.model_path.name}: {exc}")
                outcome = None
            if outcome is not None and outcome.held_back:  # the folder's model changed meanwhile
                result = _kept_as_candidate(result, outcome.held_back)
            here = loop is self.loop and not self.worker.stopping
            if outcome is not None and outcome.in_use and here:
                self._refresh_version = result.version
                self.models.load(result.model_path, run_result=True)
            if outcome is not None and here:
                self._tell(f"{result.model_path.stem}: {result.reason}")
            if outcome is not None and outcome.not_pruned:  # e.g. open in another program
                self._tell(outcome.not_pruned)
        if self.worker.stopping:
            return  # the window is closing
        if loop is self.loop:
            if result is not None:
                self._show_record()  # the tips name the new version
            self._show_round(_round_outcome(run.name, result, job, self._held))
            self.round_finished.emit(result)
        else:
            self._elsewhere_line = shown_name(self._ended_elsewhere(run, loop))
            self.training_dock.show_round(self._elsewhere_line)
        self.start_round()  # the corrections that came meanwhile (or the open folder's)

    def _not_put_into_use(self, loop: LearningLoop, result: RoundResult) -> RoundResult:
        """``result`` as the window records it: a candidate only when an image it used was
        undone and saved after the round's last look, or (had the gate promoted it) learning
        was turned off or another model was being put into use in its folder as it finished."""
        undone = loop.no_longer_labelled(result.train_images + result.validation_images)
        if undone:
            loop.request_round()  # the new round leaves them out
            names = ", ".join(undone)
            is_, it = ("is", "it") if len(undone) == 1 else ("are", "them")
            return _kept_as_candidate(result, f"{names} {is_} no longer corrected (undone and "
                                              f"saved as the round finished); a new round "
                                              f"starts without {it}")
        if result.promoted and not loop.record.enabled:
            return _kept_as_candidate(result, "learning was turned off as it finished")
        # the user's choice, not yet in the task; only while its folder is open: a load as
        # another folder opens is that folder's model (a reopen of its own cancels the round)
        if result.promoted and loop is self.loop and self.models.loading:
            return _kept_as_candidate(result, "another model was being put into use as it "
                                              "finished")
        return result

    def _ended_elsewhere(self, run: RunPlan, loop: LearningLoop) -> str:
        """How a round of a loop that is no longer the open folder's ended: that folder was
        left, or opened again (a change of its classes reopens it)."""
        ws = self.session.workspace
        if ws is None or not same_folder(ws.root, run.root):
            return (f"Learning round {run.name} of {run.root.name} ended (that folder is no "
                    "longer open).")
        why = ("its classes changed" if self.loop is not None and self.loop.scheme != loop.scheme
               else "the folder was opened again")
        return f"Learning round {run.name} cancelled: {why}; nothing kept."

    def _on_model_changed(self, model: Any) -> None:
        if model is not None and model.version == self._refresh_version:
            self._refresh_version = None
            self.refresh_uncorrected()
        QTimer.singleShot(0, self.start_round)  # once the load has finished (models.loading)

    def refresh_uncorrected(self) -> list[str]:
        """Predict again, with the model now in use, the next images not yet corrected (in list
        order after the one on screen; the one on screen is the prediction controller's)."""
        ws = self.session.workspace
        if ws is None or self.worker.stopping:
            return []
        keys = [e.key for e in ws.entries]
        current = self.session.current_key
        start = keys.index(current) + 1 if current in keys else 0
        ordered = keys[start:] + keys[:start]
        self.refreshed = [k for k in ordered if k != current and ws[k].state
                          not in LABELLED_STATES and not self.session.is_dirty(k)][:REFRESH_LIMIT]
        self.service.prefetch(self.refreshed)
        return self.refreshed


def _round_outcome(name: str, result: RoundResult | None, job: Job, held: bool) -> str:
    """How round ``name`` ended, for the panel and the dock's status line."""
    if job.state == FAILED:
        return f"Learning round {name} failed: {job.error}"
    if result is None or result.gate == "cancelled":
        after = (" The next correction you save starts a new round (or turn Learn as I Correct "
                 "off)." if held else "")
        return f"Learning round {name} cancelled; nothing kept.{after}"
    return f"Learning round {name}: {result.reason}"


def _cancelled(loop: LearningLoop, result: RoundResult) -> RoundResult:
    """``result`` of a round cancelled as it finished (a fine-tune took the folder and said
    so): nothing kept, and what it took goes into the next round, as for a round cancelled
    while it trains."""
    loop.request_round()
    return dataclasses.replace(result, model_path=None, version="", promoted=False,
                               gate="cancelled", reason="Round cancelled; nothing kept.")


def _kept_as_candidate(result: RoundResult, why: str) -> RoundResult:
    """``result`` of a round whose version is kept only as a candidate, not put into use,
    because of ``why``: its reason (shown in the panel, the dock and the version's note) says
    so first, then what the gate said."""
    return dataclasses.replace(result, promoted=False,
                               reason=f"Kept as a candidate, not put into use: {why}. "
                                      f"The gate's verdict was: {result.reason}")


def _round_steps(loop: LearningLoop, plan: RoundPlan, owner: FolderModels, run: RunPlan,
                 token: CancelToken) -> Iterator[object]:
    """The round's reports. Closed between two steps (the window quits: no ``on_finished``
    follows), it gives its reserved version name back."""
    try:
        yield from loop.run_round(plan, EitherToken(token, run.cancel))
    except GeneratorExit:
        owner.discard(run)
        raise


def _pair_loader(ws: Any):
    def load_pair(key: str):
        mask = ws.load_mask(key)
        if mask is None:
            raise FileError(ws[key].mask_path, "the corrected mask is missing")
        return ws.load_raw(key), mask  # the round applies its model's input rule

    return load_pair


def _is_labelled(ws: Any):
    """key -> whether it is corrected or verified now (an image no longer in the folder: True,
    the loader then names it)."""
    def is_labelled(key: str) -> bool:
        return key not in ws or ws[key].state in LABELLED_STATES

    return is_labelled


def _mask_digest(ws: Any):
    """key -> the sha1 of its mask as stored now, as a fine-tune records it
    (``ml.training.dataset.load_workspace_sample``): the file's bytes, a slice's values."""
    return lambda key: stored_mask_digest(ws, key)
