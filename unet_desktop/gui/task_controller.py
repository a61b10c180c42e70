"""The open folder's task in the window: set it up, edit its classes, restore and record its models.

The task itself is owned by the workspace (``Workspace.task``, saved in ``.unet-desktop/task.json``
by ``Workspace.save_task`` or ``core.task.save_task``); this controller only asks, writes and
reacts:

- opening a folder with a task loads the task's model; opening one with neither masks nor a task
  asks for a task (:class:`TaskDialog`); File > New Task... asks at any time, proposing the scheme
  guessed from the folder's masks;
- a task with other classes than the open workspace's takes effect by opening the folder again
  (the current mask is saved first; masks are only ever written in the folder's scheme);
- while the model in use predicts other classes than the task's, the banner above the canvas
  says so and predictions are never accepted into the masks (``PredictionController.accept_guard``);
- a fine-tune of the task (:meth:`training_plan`) writes ``<task>-v<n>`` into the task's models
  folder, and the finished model is recorded as a version (Model > Versions...).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from unet_desktop.core.errors import FileError
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.model_header import model_metadata
from unet_desktop.core.task import (
    Task,
    classes_mismatch,
    load_task,
    model_file,
    models_folder,
    save_task,
    stored_reference,
    version_from_metadata,
)
from unet_desktop.core.task_proposal import propose, sample_images, with_colors
from unet_desktop.gui.class_editor import ClassesDialog, default_scheme
from unet_desktop.gui.finetune_dialog import TaskPlan
from unet_desktop.gui.model_actions import ModelActions
from unet_desktop.gui.model_controller import ModelController
from unet_desktop.gui.prediction_controller import PredictionController
from unet_desktop.gui.session import EditingSession
from unet_desktop.gui.task_actions import TaskActions
from unet_desktop.gui.task_banner import TaskBanner
from unet_desktop.gui.task_dialog import TaskDialog
from unet_desktop.gui.tool_controller import ToolController
from unet_desktop.gui.training_commands import TrainingCommands
from unet_desktop.gui.versions_dialog import VersionsDialog


def _same_file(a: str | os.PathLike | None, b: str | os.PathLike | None) -> bool:
    return a is not None and b is not None and os.path.realpath(a) == os.path.realpath(b)


class TaskController(QObject):
    message = Signal(str)
    error = Signal(str)
    task_changed = Signal()  # the open folder's task was created, edited or got a new version

    def __init__(self, actions: TaskActions, session: EditingSession, models: ModelController,
                 prediction: PredictionController, training: TrainingCommands,
                 model_actions: ModelActions, accept_button: QPushButton,
                 tools: ToolController, banner: TaskBanner,
                 reopen: Callable[[Path], bool], user_models: Path, dialog_parent: QWidget,
                 ask_on_open: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.actions = actions
        self.session = session
        self.models = models
        self.prediction = prediction
        self.training = training
        self.model_actions = model_actions
        self.accept_button = accept_button
        self.tools = tools
        self.banner = banner
        self.reopen = reopen
        self.user_models = Path(user_models)
        self.ask_on_open = ask_on_open
        self._dialog_parent = dialog_parent
        self.dialog: TaskDialog | None = None
        self.classes_dialog: ClassesDialog | None = None
        self.versions_dialog: VersionsDialog | None = None
        self.restored_model: Path | None = None  # the task model loaded on opening the folder
        self._planned: dict[str, Path] = {}  # output model file -> the folder it was trained for
        prediction.accept_guard = self.refusal
        training.task_plan = self.training_plan
        session.workspace_opened.connect(self._on_workspace_opened)
        models.model_changed.connect(self._on_model_changed)
        training.training_dock.model_trained.connect(self._on_model_trained)
        actions.new_task.triggered.connect(lambda: self.new_task())
        actions.classes.triggered.connect(lambda: self.edit_classes())
        actions.versions.triggered.connect(lambda: self.show_versions())
        actions.eraser_background.toggled.connect(tools.set_eraser_to_background)
        self._update_actions()

    # --- queries ---------------------------------------------------------------------------------
    @property
    def task(self) -> Task | None:
        ws = self.session.workspace
        return ws.task if ws is not None else None

    def refusal(self, model_scheme_: LabelScheme) -> str | None:
        """Why predictions with ``model_scheme_``'s classes must not become this folder's masks."""
        ws = self.session.workspace
        if ws is None or ws.task is None:
            return None
        return classes_mismatch(model_scheme_, ws.scheme)

    # --- opening a folder ------------------------------------------------------------------------
    def _on_workspace_opened(self) -> None:
        ws = self.session.workspace
        self.restored_model = None
        self._update_actions()
        if ws.task is not None:
            self._restore_model(ws.task)
        elif self.ask_on_open and len(ws) and not ws.read_only \
                and not any(e.has_mask for e in ws.entries):
            QTimer.singleShot(0, lambda: self._ask_if_still(ws))
        self._update_banner()
        if self.versions_dialog is not None:
            self.versions_dialog.close()

    def _ask_if_still(self, ws: Any) -> None:
        if self.session.workspace is ws and ws.task is None and self.dialog is None:
            self.new_task(note=f"{ws.root.name} has no masks and no task yet: say what is "
                               "labelled here.")

    def _restore_model(self, task: Task) -> None:
        if task.model is None:
            return
        path = model_file(self.session.workspace.root, task.model)
        if not path.is_file():
            self.error.emit(f"{path}: the task's model file is missing; open or train another "
                            "one (Model > Versions... lists the others)")
            return
        self.restored_model = path
        current = self.models.slots.current
        if current is None or not _same_file(current.path, path):
            self.message.emit(f"Loading the task's model {path.name}...")
            self.models.load(path)

    # --- creating and editing --------------------------------------------------------------------
    def proposed_scheme(self) -> tuple[LabelScheme, str]:
        """The scheme a new task proposes, and a note saying why."""
        ws = self.session.workspace
        if ws.task is not None:
            return ws.scheme, "This folder's task; change what you like."
        masks = sum(1 for e in ws.entries if e.has_mask)
        if masks:
            return ws.scheme, (f"This folder has {masks} mask file(s); their values look "
                               f"{ws.scheme.kind} ({ws.scheme.num_classes} classes).")
        return default_scheme("binary"), "No masks yet: every pixel starts unlabeled."

    def new_task(self, note: str = "") -> TaskDialog | None:
        ws = self.session.workspace
        if ws is None:
            self.message.emit("Open a folder first")
            return None
        scheme, why = self.proposed_scheme()
        name = ws.task.name if ws.task is not None else ""
        models_in = ws.task.models_in if ws.task is not None else "folder"
        scale = ws.task.scale if ws.task is not None else "fit"
        if ws.task is None:  # from the images: the scale, colours that show on them
            found = propose(sample_images(ws.load_image, [e.key for e in ws.entries]),
                            scheme.num_classes)
            scheme, scale, why = with_colors(scheme, found.colors), found.scale, \
                f"{why} {found.why}".strip()
        dialog = TaskDialog(scheme, name, " ".join(p for p in (note, why) if p),
                            self.user_models, self._dialog_parent, models_in, scale)
        dialog.accepted.connect(lambda: self._on_task_accepted(dialog, ws))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        return dialog

    def _on_task_accepted(self, dialog: TaskDialog, ws: Any) -> None:
        try:
            task = dialog.task()
        except ValueError as exc:
            self.error.emit(f"Cannot create the task: {exc}")
            return
        if ws is not self.session.workspace:
            return  # another folder was opened meanwhile
        if ws.task is not None:  # a new set-up of the same folder keeps its model history
            task = replace(task, versions=ws.task.versions, model=ws.task.model)
        if task.start_from is not None and task.model is None:
            task = replace(task, model=stored_reference(ws.root, task.start_from))
        self.apply_task(task)
        if any(e.has_mask for e in ws.entries) and ws.scheme.kind != task.scheme.kind:
            self.message.emit("Masks of the folder that do not fit the task's classes are "
                              "reported and skipped until corrected")

    def edit_classes(self) -> ClassesDialog | None:
        """Mask > Classes...: the open folder's classes (a new task if it has none)."""
        ws = self.session.workspace
        if ws is None:
            self.message.emit("Open a folder first")
            return None
        if ws.task is None:
            self.new_task(note="Classes belong to the folder's task: set it up first.")
            return None
        dialog = ClassesDialog(ws.scheme, any(e.has_mask for e in ws.entries),
                               self._dialog_parent)
        dialog.accepted.connect(lambda: self._on_classes_accepted(dialog, ws))
        self.classes_dialog = dialog
        dialog.open()
        return dialog

    def _on_classes_accepted(self, dialog: ClassesDialog, ws: Any) -> None:
        if ws is self.session.workspace and ws.task is not None:
            self.apply_task(replace(ws.task, scheme=dialog.scheme()))

    def apply_task(self, task: Task) -> bool:
        """Save ``task`` as the open folder's and take it into use; False if it cannot be
        saved (the error says why)."""
        ws = self.session.workspace
        reopen = task.scheme != ws.scheme
        try:
            if reopen:
                self.session.save("leave")  # in the folder's scheme, before it changes
                save_task(ws.root, task)
            else:
                ws.save_task(task)
        except (FileError, ValueError) as exc:
            self.error.emit(f"Cannot save the task: {exc}")
            return False
        if reopen and not self.reopen(ws.root):  # restores the task's model as it opens
            return False
        self.message.emit(f"Task {task.name}: {', '.join(task.scheme.names)}"
                          + (" (sparse labels)" if task.sparse else ""))
        self.task_changed.emit()
        self._update_actions()
        if not reopen:
            self._restore_model(task)
        self._update_banner()
        return True

    # --- models ----------------------------------------------------------------------------------
    def _on_model_changed(self, model: Any) -> None:
        self._update_banner()
        ws = self.session.workspace
        if ws is None or ws.task is None or model is None or model.path is None \
                or self.models.using_previous or self.refusal(model.meta.scheme):
            return
        stored = stored_reference(ws.root, model.path)
        if stored != ws.task.model:  # a model of the task put into use (switch, roll back)
            self._save(replace(ws.task, model=stored))

    def _save(self, task: Task) -> None:
        try:
            self.session.workspace.save_task(task)
        except (FileError, ValueError) as exc:
            self.error.emit(f"Cannot save the task: {exc}")
            return
        self.task_changed.emit()
        if self.versions_dialog is not None:
            self.versions_dialog.show_task(task)

    def training_plan(self) -> TaskPlan | None:
        """Where the next fine-tune of the task goes and what it starts from (None: no task)."""
        ws = self.session.workspace
        task = ws.task if ws is not None else None
        if task is None:
            return None
        out, name = self.next_model_file()
        plan = TaskPlan(out, name, *self.starting_point(), scale=task.scale)
        self._planned[os.path.realpath(out)] = ws.root
        return plan

    def starting_point(self) -> tuple[Path | None, bool, str]:
        """What the task's next model starts from: the model in use when it predicts the task's
        classes, else the task's ``start_from`` (its classes mapped onto the task's by name),
        else None (a new model from the ImageNet encoder); whether its classes are replaced;
        and a description."""
        task = self.task
        current = self.models.slots.current
        start = Path(task.start_from) if task is not None and task.start_from else None
        if current is not None and current.path is not None \
                and not self.refusal(current.meta.scheme):
            return current.path, False, f"fine-tunes {current.label}"
        if start is not None and start.is_file():
            return start, True, f"starts from {start.name}, its classes mapped onto the task's by name"
        return None, False, "a new model from the ImageNet-pretrained encoder"

    def next_model_file(self) -> tuple[Path, str]:
        """Where the open folder's next model version goes (``<task>-v<n>``), and its name."""
        ws = self.session.workspace
        folder = models_folder(ws.root, ws.task, self.user_models)
        name = ws.task.next_model_name()
        out, n = folder / f"{name}.safetensors", 1
        while out.exists():
            n += 1
            out = folder / f"{name}-{n}.safetensors"
        return out, name

    def ensure_task(self) -> Task | None:
        """The open folder's task; one is made from the folder's classes if it has none (the
        learning loop records its versions there). None if it cannot be saved."""
        ws = self.session.workspace
        if ws is None:
            return None
        if ws.task is None:  # from the model in use: as it is, or with its classes mapped
            current = self.models.slots.current
            path = current.path if current is not None else None
            fits = path is not None and classes_mismatch(current.meta.scheme, ws.scheme) is None
            task = Task(ws.root.name, ws.scheme,
                        start_from=str(path) if path is not None and not fits else None,
                        model=stored_reference(ws.root, path) if fits else None)
            if not self.apply_task(task):
                return None
        return ws.task

    def record_version(self, path: Path, metrics: dict, note: str, in_use: bool) -> None:
        """Add a model file of the open folder (the learning loop's round) to its task's
        versions, with ``metrics`` and ``note``; ``in_use``: as the model in use, else as a
        candidate the user can still pick in Model > Versions."""
        ws = self.session.workspace
        if ws is None or ws.task is None:
            return
        version = version_from_metadata(stored_reference(ws.root, path),
                                        model_metadata(path) or {}, Path(path).stem)
        version = replace(version, metrics=dict(metrics), note=note)  # the loop's own measures
        self._save(ws.task.with_version(version) if in_use else ws.task.with_candidate(version))

    def _on_model_trained(self, path: str) -> None:
        root = self._planned.pop(os.path.realpath(path), None)
        if root is None:
            return  # not a run of a task
        meta = model_metadata(path) or {}
        ws = self.session.workspace
        open_here = ws is not None and _same_file(ws.root, root)
        try:
            task = ws.task if open_here else load_task(root)
        except FileError as exc:
            self.error.emit(f"Cannot record {Path(path).name} in its task: {exc}")
            return
        if task is None:
            return
        version = version_from_metadata(stored_reference(root, path), meta, Path(path).stem)
        task = task.with_version(version)
        if open_here:
            self._save(task)
        else:
            try:
                save_task(root, task)
            except FileError as exc:
                self.error.emit(f"Cannot record {Path(path).name} in its task: {exc}")

    def show_versions(self) -> VersionsDialog | None:
        task = self.task
        if task is None:
            self.message.emit("This folder has no task: File > New Task... sets one up")
            return None
        if self.versions_dialog is None:
            self.versions_dialog = VersionsDialog(task, self._dialog_parent)
            self.versions_dialog.use_requested.connect(self.use_version)
        self.versions_dialog.show_task(task)
        self.versions_dialog.show()
        self.versions_dialog.raise_()
        return self.versions_dialog

    def use_version(self, stored: str) -> None:
        ws = self.session.workspace
        if ws is None:
            return
        path = model_file(ws.root, stored)
        if not path.is_file():
            self.error.emit(f"{path}: this version's model file is missing")
            return
        self.message.emit(f"Loading {path.name}...")
        self.models.load(path)

    # --- view ------------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        has_folder = self.session.workspace is not None
        self.actions.new_task.setEnabled(has_folder)
        self.actions.classes.setEnabled(has_folder)
        self.actions.versions.setEnabled(self.task is not None)

    def _update_banner(self) -> None:
        model = self.models.active
        reason = self.refusal(model.meta.scheme) if model is not None else None
        task = self.task
        text = ""
        if reason:
            text = (f"<b>{model.label}</b> does not fit this folder: {reason}. Its prediction is "
                    "shown for reference only and never written into the masks. Label a few "
                    f"images and fine-tune (Training &gt; Fine-tune) to make "
                    f"<b>{task.next_model_name()}</b>.")
        self.banner.show_text(text)
        # the action stays enabled: Enter also finishes polygons; accept() refuses with the reason
        self.model_actions.accept_prediction.setStatusTip(
            f"Not available: {reason}" if reason else "Make the prediction the mask")
        self.accept_button.setEnabled(not reason)
        self.accept_button.setToolTip(f"Not available: {reason}" if reason
                                      else "Make the prediction the mask (Enter)")

