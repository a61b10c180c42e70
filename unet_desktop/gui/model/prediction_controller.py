"""Instant predictions in the window: request, show as a layer, accept, rank by uncertainty.

Selecting an image asks the :class:`PredictionService` for its prediction and prefetches the
images around it in list order. A result is painted only if it is for the image on screen and
from the model predicting now (a late result is cached, never shown over another image). The
prediction is its own canvas layer; it becomes the editable mask

- by itself, as one undo step, when the image has no mask of the user's (``unlabeled``, or
  ``predicted`` by another model version) and the auto-accept preference is on, except in a
  task with sparse labels: there what the user paints is the label, and the prediction stays a
  layer of its own (a correction is the strokes, not the strokes plus every predicted pixel
  nobody checked; docs/sparse-labels.md);
- when the user asks for it (Enter, "Accept Prediction"), whatever the image's state.

A corrected or verified mask, or a mask with unsaved edits, is never replaced without asking:
by itself never; from a key (Enter) only after ``confirm_replace(key)`` says yes (a question
whose default answer keeps the strokes); the prediction dock's Accept button is the explicit ask.
In a folder with a task, a model whose classes are not the task's (the one class rule,
``ml.loop.folder_models.prediction_mismatch``) has its predictions shown, never accepted into the masks.

In a task with sparse labels an image whose mask file a model wrote (Batch Predict) opens
all-unlabeled, and that file's mask is the prediction layer (``EditingSession.batch_prediction``),
with or without a model loaded: it is what the file list says the image holds, and Enter accepts
it. The model in use replaces it with its own prediction only when it is another version of the
task's classes (a newer guess, as in a dense task), and the status line then says that the file
holds the other version's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from unet_desktop.core.folder.workspace import ImageState
from unet_desktop.core.labels import LabelScheme, adapt_labels
from unet_desktop.gui.editing.canvas import Canvas
from unet_desktop.gui.editing.file_list_dock import FileListDock
from unet_desktop.gui.editing.session import EditingSession
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_service import (
    PredictionService,
    neighbours_of,
    uncertainty_order,
)
from unet_desktop.ml.inference.prediction_result import Prediction
from unet_desktop.ml.loop.folder_models import prediction_mismatch

PREFETCH_RADIUS = 2
__all__ = ["PredictionController", "adapt_labels", "may_replace_automatically"]


def may_replace_automatically(state: ImageState, has_user_edits: bool, accepted_unedited: bool,
                              mask_version: str | None, version: str) -> bool:
    """Whether a prediction of ``version`` may become the mask without the user asking."""
    if has_user_edits or state in (ImageState.CORRECTED, ImageState.VERIFIED):
        return False
    if state is ImageState.UNLABELED or accepted_unedited:
        return True
    return mask_version != version  # predicted by another model: the newer guess replaces it


def nothing_else_to_correct(left: list[str], current: str | None) -> str:
    """What Next Most Uncertain says when it has no other image to go to: ``left`` are the
    images not yet corrected or verified, among them maybe the one on screen (``current``) and
    images with unsaved edits, which it does not go to."""
    if not left:
        return "Every image is corrected or verified"
    others = [k for k in left if k != current]
    if not others:
        return "This is the last image not yet corrected or verified"
    this_one = "this one and " if current in left else ""
    return (f"No other image to go to: the images not yet corrected or verified are "
            f"{this_one}{len(others)} with unsaved edits")


@dataclass(frozen=True)
class ShownPrediction:
    key: str
    version: str
    prediction: Any  # ml.inference.predictor.Prediction
    scheme: LabelScheme  # the model's
    from_file: bool = False  # the mask a batch run wrote into the image's file (no model's now)

    @property
    def from_strokes(self) -> bool:
        """Made from the user's strokes (``gui.model.live_prediction``), not by a model."""
        from unet_desktop.gui.model.live_prediction import VERSION

        return self.version == VERSION


class PredictionController(QObject):
    """Glue between the session, the prediction service and the canvas (module docstring)."""

    status_changed = Signal(str)  # one line for the prediction dock
    message = Signal(str)  # for the status bar
    # keys as Python objects: a Qt string drops the bytes of a file name not UTF-8
    prediction_shown = Signal(object)  # image key whose prediction is now on the canvas
    accepted = Signal(object, bool)  # image key, automatically (not by the user)

    def __init__(self, session: EditingSession, service: PredictionService,
                 models: ModelController, canvas: Canvas, file_dock: FileListDock,
                 auto_accept: Callable[[], bool] = lambda: True,
                 parent: QObject | None = None) -> None:
        """``auto_accept()`` reads the auto-accept preference from its owner (the settings)."""
        super().__init__(parent)
        self.session = session
        self.service = service
        self.models = models
        self.canvas = canvas
        self.file_dock = file_dock
        self._auto_accept = auto_accept
        self.shown: ShownPrediction | None = None
        self._active = True
        self.waiting: str | None = None  # why nothing is predicted now (the folder's task)
        self._scheme_warned: str | None = None
        self._ranked_by: str | None = None  # the model version whose scores the file list shows
        self.confirm_replace: Callable[[str], bool] = self._ask_replace_strokes
        session.acceptable_prediction_shown = lambda key: (  # Mark Verified's wording
            self.shown is not None and self.shown.key == key and not self._refusal(self.shown))
        session.workspace_opened.connect(self._on_workspace_opened)
        session.document_opened.connect(self._on_document_opened)
        service.prediction_ready.connect(self._on_prediction_ready)
        service.failed.connect(self._on_failed)
        models.model_changed.connect(self._on_model_changed)
        models.predictions_invalidated.connect(self._on_predictions_invalidated)

    @property
    def auto_accept(self) -> bool:
        return self._auto_accept()

    def stop(self) -> None:
        """The window is closing: ignore every later result and request nothing more."""
        self._active = False

    def set_waiting(self, reason: str | None) -> None:
        """``reason``: show no prediction (none painted, accepted or ranked) until called with
        None, e.g. while the folder's task is being set up; then the one on screen follows."""
        self.waiting = reason
        if reason is not None:
            self.shown = None
            self.canvas.clear_prediction()
            self.status_changed.emit(reason)
        else:
            self._show_batch_prediction()
            self.request_current()

    # --- requests -------------------------------------------------------------------------------
    def request_current(self) -> None:
        """Ask for the prediction of the image on screen (and prefetch its neighbours)."""
        key = self.session.current_key
        if not self._active or key is None:
            return
        if self.models.active is None:
            self.status_changed.emit(self._beside_batch(
                "The prediction follows once the model is loaded" if self.models.loading
                else "No model loaded: open one with Model > Open Model..."))
            return
        if self.waiting is not None:
            self.status_changed.emit(self.waiting)
            return
        if self.service.request(key, self.neighbour_keys()) is None and self.shown is None:
            self.status_changed.emit(f"Predicting {key}...")

    def _on_workspace_opened(self) -> None:
        self.shown = None
        self._scheme_warned = None
        self._ranked_by = None  # the folder's recorded scores until a model scores an image
        self.service.set_workspace(self.session.workspace)

    def _on_document_opened(self) -> None:
        self.shown = None  # the canvas cleared the prediction layers with the new image
        self._show_batch_prediction()
        self.request_current()

    def _on_model_changed(self, model: Any) -> None:
        self.shown = None
        self.canvas.clear_prediction()
        self._show_batch_prediction()
        self._rank_by(model)
        self.request_current()

    def _rank_by(self, model: Any) -> None:
        """After a switch from the model that scored the list (a roll back, a promotion), every
        image's uncertainty becomes the new model's cached score, or none until it predicts
        that image: the list and the sort by uncertainty never show the old model's figures."""
        ws = self.session.workspace
        version = model.version if model is not None else None
        if ws is None or version is None or self._ranked_by in (None, version):
            return
        self._ranked_by = version
        scores = self.service.cache.scores(version) if self._model_fits(model) else {}
        for entry in ws.entries:
            old = entry.uncertainty
            ws.note_uncertainty(entry.key, scores.get(entry.key, math.nan))  # nan: forgotten
            if entry.uncertainty != old:  # each refresh sorts the list again
                self.file_dock.refresh_entry(entry.key)

    def _on_predictions_invalidated(self) -> None:
        self._on_model_changed(self.models.active)

    # --- results --------------------------------------------------------------------------------
    def _on_prediction_ready(self, key: str, version: str, prediction: Any) -> None:
        if not self._active or self.waiting is not None:
            return  # cached by the service for later
        model = self.models.active  # read once: a swap on the worker cannot split the pair
        if model is None or model.version != version:
            return  # another model's result (cached for it); never paired with this scheme
        fits = self._model_fits(model)
        if fits:
            self._record_score(key, prediction.score)  # a misfit model ranks no image
        if key != self.session.current_key:  # the session owns which image is on screen
            return  # cached for later; never painted over another image
        if self._keeps_batch_prediction(model, fits):
            return
        ws = self.session.workspace  # a model of the task's classes shows in the task's colours
        drawn = ws.scheme if fits and ws.task is not None else model.meta.scheme
        if not self.canvas.set_prediction(prediction.labels, prediction.uncertainty, drawn):
            self.message.emit(f"{key}: the prediction's size does not match the image")
            return
        self.shown = ShownPrediction(key, version, prediction, model.meta.scheme)
        which = " (previous model)" if self.models.using_previous else ""
        self.status_changed.emit(f"Mean uncertainty {prediction.score:.3f}{which}"
                                 f"{self._batch_not_shown(key, model)}")
        self.prediction_shown.emit(key)
        if self.auto_accept and self._may_auto_accept():
            self.accept(automatically=True)

    def _record_score(self, key: str, score: float) -> None:
        ws = self.session.workspace
        if ws is None or key not in ws:
            return
        ws.note_uncertainty(key, score)  # in memory; saved with the image's next mask
        self._ranked_by = self.models.active_version
        self.file_dock.refresh_entry(key)

    def _on_failed(self, key: str, message: str) -> None:
        if self._active and key == self.session.current_key:
            self.status_changed.emit(f"Prediction failed: {message}")
            self.message.emit(f"Prediction failed: {message}")

    # --- a batch prediction in the image's file (a task with sparse labels) ---------------------
    def _show_batch_prediction(self) -> bool:
        """Show the mask a batch run wrote into the file of the image on screen, which the
        image opened without (``EditingSession.batch_prediction``), as the prediction layer."""
        document = self.session.document
        if not self._active or self.waiting is not None or document is None:
            return False
        batch = self.session.batch_prediction(document.key)
        if batch is None:
            return False
        labels = batch.mask
        if not self.canvas.set_prediction(labels, None, document.scheme):
            return False
        score = batch.prediction.uncertainty
        self.shown = ShownPrediction(
            document.key, batch.prediction.model_version,
            Prediction(labels=labels, probs=None, uncertainty=None,  # the file has no map
                       score=math.nan if score is None else score),
            document.scheme, from_file=True)
        self.status_changed.emit(self._batch_status())
        self.prediction_shown.emit(document.key)
        return True

    def _keeps_batch_prediction(self, model: Any, fits: bool) -> bool:
        """Whether the batch prediction on screen stays rather than ``model``'s new one: it
        does unless ``model`` is another version of the task's classes (a newer guess). A
        model that cannot label the task's classes, or the very version that wrote the file,
        does not replace what the file holds."""
        shown = self.shown
        if shown is None or not shown.from_file or shown.key != self.session.current_key:
            return False
        if fits and model.version != shown.version:
            return False
        self.status_changed.emit(self._batch_status())
        return True

    def _batch_status(self) -> str:
        shown = self.shown
        return (f"Batch prediction of {self._version_name(shown.version)}, as its mask file "
                "holds it: Enter accepts it")

    def _beside_batch(self, text: str) -> str:
        """``text`` after the batch prediction's line when one is shown."""
        shown = self.shown
        if shown is None or not shown.from_file or shown.key != self.session.current_key:
            return text
        return f"{self._batch_status()}. {text}"

    def _batch_not_shown(self, key: str, model: Any) -> str:
        """What a prediction of ``model`` shown over an image whose file holds a batch
        prediction of another version says of that one ('' when there is none)."""
        batch = self.session.batch_prediction(key)
        if batch is None or batch.prediction.model_version == model.version:
            return ""
        return (f": the prediction of {self._version_name(model.version)} (in use); its mask "
                f"file holds the batch prediction of "
                f"{self._version_name(batch.prediction.model_version)}")

    def _version_name(self, version: str) -> str:
        """A model version as the task names it (``cells-v3``), or as the model in use is
        named, else its id."""
        if not version:
            return "a model not recorded"
        ws, model = self.session.workspace, self.models.active
        task = ws.task if ws is not None else None
        names = {v.version: v.name for v in task.versions} if task is not None else {}
        if model is not None and model.version == version and model.meta.name:
            names.setdefault(version, model.meta.name)
        return names.get(version, f"model version {version}")

    def show_from_strokes(self, key: str, prediction: Any) -> bool:
        """Show a prediction made from the strokes of the image on screen (``gui.model.live_prediction``)
        in place of the model's, until the model's next one; accepting it accepts what is shown."""
        from unet_desktop.gui.model.live_prediction import VERSION

        document = self.session.document
        if not self._active or document is None or document.key != key:
            return False
        if not self.canvas.set_prediction(prediction.labels, prediction.uncertainty,
                                          document.scheme):
            return False
        self.shown = ShownPrediction(key, VERSION, prediction, document.scheme)
        self.status_changed.emit("Prediction from your strokes (pixel classifier), until the "
                                 "model's next prediction")
        self.prediction_shown.emit(key)
        return True

    def withdraw_from_strokes(self, key: str) -> None:
        """The strokes of ``key`` no longer make a prediction (an undo left one class): the one
        they made is taken away, so Enter cannot accept what removed strokes taught; the
        model's own follows."""
        shown = self.shown
        if not self._active or shown is None or shown.key != key or not shown.from_strokes:
            return
        self.shown = None
        self.canvas.clear_prediction()
        self.status_changed.emit("No prediction from your strokes: they need two classes")
        self._show_batch_prediction()
        self.request_current()

    # --- accepting ------------------------------------------------------------------------------
    def _may_auto_accept(self) -> bool:
        ws, shown = self.session.workspace, self.shown
        if ws.scheme.ignore_value is not None:  # sparse labels: only what the user paints
            return False
        entry = ws[shown.key]
        return may_replace_automatically(
            entry.state, self.session.has_user_edits(), self.session.is_accepted_prediction(),
            entry.model_version, shown.version)

    def accept(self, automatically: bool = False, ask: bool = False) -> bool:
        """Make the prediction on screen the editable mask (one undo step). ``ask`` (a key
        asked for it): over the user's strokes only if ``confirm_replace`` says yes."""
        shown, document = self.shown, self.session.document
        if shown is None or document is None or document.key != shown.key:
            if not automatically:
                self.message.emit("No prediction to accept yet")
            return False
        refused = self._refusal(shown)
        if refused:
            if not automatically:
                self.message.emit(f"Cannot accept the prediction: {refused}")
            return False
        if ask and self.has_strokes() and not self.confirm_replace(shown.key):
            self.message.emit(f"Kept your strokes on {shown.key}")
            return False
        try:
            labels = adapt_labels(shown.prediction.labels, shown.scheme, document.scheme)
        except ValueError as exc:
            if self._scheme_warned != shown.version or not automatically:
                self.message.emit(f"Cannot accept the prediction: {exc}")
                self._scheme_warned = shown.version
            return False
        score = shown.prediction.score  # nan: a batch prediction whose file recorded none
        self.session.accept_prediction(labels, shown.version,
                                       None if math.isnan(score) else score,
                                       automatic=automatically)
        self.accepted.emit(shown.key, automatically)
        if not automatically:
            self.message.emit(f"Accepted the prediction of {shown.key} (Ctrl+Z undoes it)")
        return True

    def _model_fits(self, model: Any) -> bool:
        """Whether ``model``'s classes may label this folder (the one class rule)."""
        return self._refused(model.meta.scheme, model.path) is None

    def has_strokes(self) -> bool:
        """Whether the mask on screen holds the user's work: unsaved edits, or a corrected or
        verified mask."""
        ws, document = self.session.workspace, self.session.document
        if document is None or ws is None:
            return False
        return self.session.has_user_edits() or ws[document.key].state in (
            ImageState.CORRECTED, ImageState.VERIFIED)

    def _ask_replace_strokes(self, key: str) -> bool:
        shown = self.shown
        which = ("the prediction from your strokes" if shown is not None
                 and shown.from_strokes else "the model's prediction")
        box = QMessageBox(QMessageBox.Icon.Question, "Replace your strokes?",
                          f"Replace your mask of {key} with {which}?",
                          parent=self.canvas.window())
        replace = box.addButton("Replace with the Prediction",
                                QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep My Strokes", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)  # a second stray Enter keeps them
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is replace

    def _refusal(self, shown: ShownPrediction) -> str | None:
        model = self.models.active  # the file of the model that made it, if still active
        return self._refused(shown.scheme, model.path if model is not None
                             and model.version == shown.version else None)

    def _refused(self, scheme: LabelScheme, path: Any = None) -> str | None:
        """Why predictions in ``scheme`` (of the model file ``path``) must not become masks: in
        a folder with a task, the one class rule (``ml.loop.folder_models.prediction_mismatch``:
        the task's own model renamed still fits)."""
        ws = self.session.workspace
        if ws is None or ws.task is None:
            return None
        return prediction_mismatch(ws.root, ws.task, path, scheme)

    # --- navigation -----------------------------------------------------------------------------
    def next_most_uncertain(self) -> str | None:
        """Select the most uncertain image not yet corrected (other than the one on screen)."""
        ws = self.session.workspace
        if ws is None:
            return None
        current = self.session.current_key
        model = self.models.active
        scores = self.service.scores() if model is not None and self._model_fits(model) else {}
        left = uncertainty_order(ws.entries, scores, ws.invalid)
        order = [k for k in left if k != current and not self.session.is_dirty(k)]
        if not order:
            self.message.emit(nothing_else_to_correct(left, current))
            return None
        self.file_dock.select_key(order[0])
        return order[0]

    # --- queries --------------------------------------------------------------------------------
    def shown_for_editing(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The prediction on screen in the document's scheme, with its uncertainty, for the smart
        tools; None when none is shown (or hidden) or its classes cannot become the mask's
        (other classes than the folder's or its task's: the tools must not carry it in)."""
        shown, document = self.shown, self.session.document
        if shown is None or document is None or document.key != shown.key \
                or not self.canvas.prediction_layer.isVisible() or self._refusal(shown):
            return None
        try:
            labels = adapt_labels(shown.prediction.labels, shown.scheme, document.scheme)
        except ValueError:
            return None
        return labels, shown.prediction.uncertainty

    @property
    def shown_key(self) -> str | None:
        return self.shown.key if self.shown else None

    def neighbour_keys(self) -> list[str]:
        key = self.session.current_key
        return neighbours_of(self.file_dock.visible_keys(), key, PREFETCH_RADIUS) if key else []
