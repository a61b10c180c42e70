"""The Model menu: open, save as, export to ONNX, model card, compare/roll back, device, mode,
flip averaging.

Everything that touches a model file or torch runs on the worker thread; this object only asks
for file names, submits jobs and reports the outcome through ``message`` (status bar) and
``error`` (the window's error box).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QWidget

from unet_desktop.core.errors import FileError
from unet_desktop.core.io import paths
from unet_desktop.core.io.model_header import prediction_mode_name
from unet_desktop.gui.model.model_actions import ModelActions
from unet_desktop.gui.model.model_card_dialog import ModelCardDialog
from unet_desktop.gui.model.model_controller import (
    ModelController,
    ModelFileGone,
    device_choices,
)
from unet_desktop.gui.settings import AppSettings
from unet_desktop.gui.worker import FAILED, Job, Priority
from unet_desktop.ml.model_files import copy_model_file, export_onnx_file

log = logging.getLogger(__name__)
MODEL_FILTER = "Models (*.safetensors);;All files (*)"


def _naming(target: Path, write: Callable[..., Any], *args: Any) -> Any:
    """``write(*args)``, which writes ``target``; an ``OSError`` that names no file (a full disk
    while writing: os.write and fsync say only the reason) becomes a ``FileError`` naming it."""
    try:
        return write(*args)
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise FileError(target, f"cannot write it ({exc.strerror or exc}); "
                        "any file there is as it was") from exc


class ModelCommands(QObject):
    """Handlers of the Model menu's actions (see the module docstring)."""

    message = Signal(str)
    error = Signal(str)
    model_label_changed = Signal(str)  # what the prediction dock shows about the model

    def __init__(self, actions: ModelActions, models: ModelController, settings: AppSettings,
                 dialog_parent: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.actions = actions
        self.models = models
        self.settings = settings
        self._dialog_parent = dialog_parent
        self.card: ModelCardDialog | None = None
        self._user_load: Job | None = None  # a failed load the user asked for: an error box
        self._start_model: list[Path | None] = []  # the start-up model asked for, once asked
        # the remembered model (settings) that was gone at start: kept in the settings while
        # the shipped model stands in for it, until the user opens another
        self._remembered_gone: Path | None = None
        self._gone_said = False
        # the model to roll back to when no previous one is in memory (the task's parent)
        self.fallback_previous: Callable[[], Path | None] = lambda: None
        a = actions
        a.open_model.triggered.connect(lambda: self.open_model())
        a.save_model_as.triggered.connect(lambda: self.save_model_as())
        a.export_onnx.triggered.connect(lambda: self.export_onnx())
        a.model_card.triggered.connect(self.show_model_card)
        a.compare_previous.triggered.connect(self.toggle_previous)
        a.rollback.triggered.connect(self.rollback)
        a.device_menu.aboutToShow.connect(self.fill_device_menu)
        a.device_group.triggered.connect(lambda action: self.set_device(action.data()))
        a.mode_group.triggered.connect(lambda action: self.set_mode(action.data()))
        a.modes[models.mode].setChecked(True)
        a.flip_averaging.setChecked(models.tta)
        a.flip_averaging.toggled.connect(self.set_flip_averaging)
        models.model_changed.connect(self._on_model_changed)
        models.load_failed.connect(self._on_load_failed)
        models.message.connect(self.message)
        models.device_changed.connect(self._on_device_changed)
        models.loading_changed.connect(self.refresh_rollback)
        self._on_model_changed(models.active)

    # --- loading --------------------------------------------------------------------------------
    def load_at_start(self, path: Path | None) -> Job | None:
        """Load ``path`` (None: the shipped default) on the worker; a missing default is a
        status-bar note, not an error."""
        self._start_model = [path]
        if path is None:
            self._remembered_gone = self._gone_remembered_model()
            default = paths.default_model_path()
            if not default.is_file():
                gone = self._remembered_gone
                opened_last = (f"the model opened last, {gone}, is not there (moved, renamed, "
                               "or on a drive not connected?) and " if gone else "")
                self._no_model(f"{opened_last}{default} is not installed; open a model with "
                               "Model > Open Model...")
                return None
        self.model_label_changed.emit("Loading the model...")
        return self.models.load(path, folder_bound=False)  # whichever folder opens meanwhile

    def _gone_remembered_model(self) -> Path | None:
        """The model file the settings remember, when it is not there (moved, a drive not
        connected)."""
        remembered = self.settings.model_path
        return remembered if remembered is not None and not remembered.is_file() else None

    def open_model(self, path: str | Path | None = None) -> Job | None:
        if path is None:
            start = str(self.settings.model_path.parent) if self.settings.model_path else ""
            path, _ = QFileDialog.getOpenFileName(self._dialog_parent, "Open a model", start,
                                                  MODEL_FILTER)
            if not path:
                return None
        self._remembered_gone = None  # the user chose: the settings remember this one
        self.message.emit(f"Loading {Path(path).name}...")
        self._user_load = self.models.load(path)
        return self._user_load

    def _on_model_changed(self, model: Any) -> None:
        a, m = self.actions, self.models
        for action in (a.save_model_as, a.export_onnx, a.model_card):
            action.setEnabled(model is not None)
        has_previous = m.previous is not None
        a.compare_previous.setEnabled(has_previous)
        self.refresh_rollback()
        a.compare_previous.setChecked(m.using_previous)
        if model is None:
            return
        gone = self._remembered_gone
        stand_in = gone is not None and model.path == paths.default_model_path()
        if model.path is not None and not m.using_previous and not stand_in:
            self.settings.model_path = model.path
            self._remembered_gone = None
        which = "previous model" if m.using_previous else "model"
        mode = prediction_mode_name(m.mode, model.meta.scale)
        how = [mode, "flip TTA"] if m.tta else [mode]
        self.message.emit(f"Predicting with the {which} {model.label} on "
                          f"{model.predictor.device} ({', '.join(how)})")
        if stand_in and not m.using_previous and not self._gone_said:
            self._say_remembered_gone(gone, model)
        text = f"<b>{model.label}</b><br>{' · '.join([str(model.predictor.device), *how])}"
        if m.using_previous:
            text += "<br><i>comparing: the previous model (C toggles back)</i>"
        self.model_label_changed.emit(text)

    def _say_remembered_gone(self, gone: Path, model: Any) -> None:
        note = (f"The model opened last, {gone}, is not there (moved, renamed, or on a drive not "
                f"connected?): the shipped model {model.label} predicts instead. Model > Open "
                "Model opens yours; it stays remembered until you open another.")
        log.warning("%s", note)
        self._gone_said = True
        self.message.emit(note)

    def _on_load_failed(self, message: str) -> None:
        job, self._user_load = self._user_load, None
        if job is not None and job.state == FAILED:
            self.error.emit(f"Cannot use the model: {message}")
        elif self.models.active is None:
            self._no_model(message)
        else:
            self.error.emit(message)

    def _no_model(self, reason: str) -> None:
        self.message.emit(f"No model: {reason}")
        self.model_label_changed.emit(f"No model: {reason}")

    # --- files ----------------------------------------------------------------------------------
    def _active_file(self) -> tuple[Path, str] | None:
        """The file of the model in use and its version: Save As and Export read that file,
        and refuse it when it holds another version now (rewritten since it was loaded)."""
        model = self.models.active
        if model is None or model.path is None:
            self.error.emit("The model in use has no file to save or export")
            return None
        return model.path, model.version

    def save_model_as(self, target: str | Path | None = None) -> Job | None:
        active = self._active_file()
        if active is None:
            return None
        source, version = active
        if target is None:
            target, _ = QFileDialog.getSaveFileName(self._dialog_parent, "Save the model as",
                                                    str(source.parent / source.name),
                                                    MODEL_FILTER)
            if not target:
                return None
        target = Path(target)
        return self.models.worker.submit(
            lambda token: _naming(target, copy_model_file, source, target, version),
            Priority.BACKGROUND,
            name="save model", on_result=lambda path: self.message.emit(f"Saved {path}"),
            on_error=lambda msg: self.error.emit(f"Cannot save the model: {msg}"))

    def export_onnx(self, target: str | Path | None = None) -> Job | None:
        active = self._active_file()
        if active is None:
            return None
        source, version = active
        if target is None:
            target, _ = QFileDialog.getSaveFileName(
                self._dialog_parent, "Export the model to ONNX",
                str(source.with_suffix(".onnx")), "ONNX (*.onnx);;All files (*)")
            if not target:
                return None
        target = Path(target)
        self.message.emit(f"Exporting {target.name}...")
        return self.models.worker.submit(
            lambda token: _naming(target, export_onnx_file, source, target, version),
            Priority.BACKGROUND,
            name="export onnx", on_result=self.message.emit,
            on_error=lambda msg: self.error.emit(f"Cannot export to ONNX: {msg}"))

    def show_model_card(self) -> ModelCardDialog | None:
        model = self.models.active
        if model is None:
            self.message.emit("No model loaded")
            return None
        if self.card is not None:
            self.card.close()  # deleted on close
        folder = self.models.open_folder()  # the gate's verdict on a version is in its task
        task = getattr(folder, "task", None)
        version = next((v for v in task.versions if v.version == model.version), None) \
            if task is not None else None
        card = self.card = ModelCardDialog(model.meta, model.path, self._dialog_parent, version)
        card.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        card.destroyed.connect(lambda: self._forget_card(card))
        card.show()
        return card

    def _forget_card(self, card: ModelCardDialog) -> None:
        if self.card is card:
            self.card = None

    # --- comparing ------------------------------------------------------------------------------
    def toggle_previous(self) -> bool:
        """Predict with the previous model, or back with the current one (key C)."""
        ok = self.models.toggle_previous()
        self.actions.compare_previous.setChecked(self.models.using_previous)
        if ok:
            model = self.models.active
            self.message.emit(f"Showing the previous model's prediction ({model.label}); "
                              "C goes back" if self.models.using_previous
                              else f"Back to the current model ({model.label})")
        return ok

    def refresh_rollback(self) -> None:
        """Roll Back is there while a previous model is in memory, the task knows the parent
        of the model in use, or a run's result is loading to replace the one in use."""
        m = self.models
        self.actions.rollback.setEnabled(m.previous is not None
                                         or (m.loading_run_result and m.current is not None)
                                         or self.fallback_previous() is not None)

    def rollback(self) -> bool:
        """Make the previous model current again; the rejected one becomes previous. Without
        one in memory (the folder was reopened), load the parent version of the task's model.
        While a run's result is loading (a round's version just promoted, a fine-tune's, recorded
        in the task as in use), that load is dropped and the model in use stays (the task records
        it again); while another model is loading (the folder's own, one opened), it waits."""
        if self.models.loading:
            return self._rollback_in_memory()
        if self.models.previous is None:
            parent = self.fallback_previous()
            if parent is None:
                return False
            self.message.emit(f"Rolling back to {parent.name}, the parent of "
                              f"{self.models.active.label}...")
            self.models.load(parent)
            return True
        ok = self._rollback_in_memory()
        if ok:
            self.message.emit(f"Rolled back to {self.models.active.label}; "
                              f"{self.models.previous.label} is now the previous model")
        return ok

    def _rollback_in_memory(self) -> bool:
        """The controller's Roll Back; a previous model whose file is gone is refused, in an
        error box (the file is checked when the models swap, whatever is loading)."""
        try:
            return self.models.rollback()
        except ModelFileGone as exc:
            self.error.emit(str(exc))
            return False

    # --- where and how --------------------------------------------------------------------------
    def fill_device_menu(self) -> None:
        self.actions.set_device_choices(device_choices(), self.models.device_name)

    def set_device(self, name: str) -> Job:
        """Move the models to ``name``; the settings remember it once the move succeeded."""
        self.message.emit(f"Moving the model to {name}...")
        return self.models.set_device(name)

    def _on_device_changed(self, name: str) -> None:
        """Remember ``name``; without a model (the start-up one could not load), load it now."""
        self.settings.device = name
        if self._start_model and self.models.active is None and not self.models.loading:
            self.load_at_start(self._start_model[0])

    def set_mode(self, mode: str) -> Job:
        self.settings.prediction_mode = mode
        self.actions.modes[mode].setChecked(True)
        return self.models.set_mode(mode)

    def set_flip_averaging(self, enabled: bool) -> Job:
        """Turn flip TTA on or off (saved in the settings)."""
        self.settings.flip_averaging = enabled
        with QSignalBlocker(self.actions.flip_averaging):
            self.actions.flip_averaging.setChecked(enabled)
        return self.models.set_tta(enabled)
