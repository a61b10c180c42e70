"""File > Batch Predict Folder... and Training > Fine-tune on Corrected Images...

Both are long jobs on the worker thread (the window keeps getting its own predictions between
their steps). A batch run over the open folder never writes the image on screen nor one with
unsaved edits (the session's :meth:`~EditingSession.is_protected`); it refreshes the file list
as masks are written. A finished fine-tuning run hands its
model file to the :class:`ModelController`, which swaps it in (the old one stays "previous":
compare with C, roll back from the Model menu).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from unet_desktop.gui.batch_predict_dialog import BatchPredictDialog
from unet_desktop.gui.finetune_dialog import FinetuneDialog, TaskPlan
from unet_desktop.gui.model_actions import ModelActions
from unet_desktop.gui.model_controller import ModelController
from unet_desktop.gui.session import EditingSession
from unet_desktop.gui.training_dock import TrainingDock
from unet_desktop.gui.worker import Job


class TrainingCommands(QObject):
    """Opens the batch-predict and fine-tune dialogs and follows their runs."""

    message = Signal(str)
    error = Signal(str)
    entry_changed = Signal(str)  # an image whose mask a batch run wrote

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
        self.task_plan: Callable[[], TaskPlan | None] | None = None  # set by the folder's task
        actions.batch_predict.triggered.connect(self.batch_predict)
        actions.finetune.triggered.connect(self.finetune)
        actions.show_training.triggered.connect(self._show_training_dock)
        training_dock.model_trained.connect(self._on_model_trained)
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
        if self.training_dock.running:
            self._show_training_dock()
            self.message.emit("A training run is going; cancel it in the Training dock first")
            return None
        self.session.save("fine-tune")  # the user's edits; a prediction only looked at stays unwritten
        plan = self.task_plan() if self.task_plan is not None else None
        dialog = FinetuneDialog(self.models.active, ws, self.models_folder,
                                self.models.device_name, self._dialog_parent, plan=plan)
        dialog.accepted.connect(lambda: self._start_training(dialog))
        dialog.finished.connect(lambda _result: self._forget_finetune_dialog(dialog))
        self.finetune_dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        return dialog

    def _forget_finetune_dialog(self, dialog: FinetuneDialog) -> None:
        if self.finetune_dialog is dialog:
            self.finetune_dialog = None
        dialog.deleteLater()  # one dialog per fine-tune: none piles up

    def _start_training(self, dialog: FinetuneDialog) -> Job | None:
        try:
            config = dialog.config(**self.config_overrides)
        except ValueError as exc:
            self.error.emit(f"Cannot start training: {exc}")
            return None
        config.out.parent.mkdir(parents=True, exist_ok=True)
        job = self.training_dock.start(self.session.workspace, config)
        self._show_training_dock()
        if job is not None:
            self.message.emit(f"Fine-tuning into {config.out.name}...")
        return job

    def _show_training_dock(self) -> None:
        self.training_dock.show()
        self.training_dock.raise_()

    def _on_model_trained(self, path: str) -> None:
        if self.models.worker.stopping:  # the run ended as the window closed
            return
        self.message.emit(f"Trained {Path(path).name}: loading it (C compares with the "
                          "previous model)")
        self.models.load(path)
