"""The open folder's task in the window: set it up, edit its classes, restore and record its models.

The task itself is owned by the workspace (``Workspace.task``, saved in ``.unet-desktop/task.json``
by ``Workspace.save_task`` or ``core.folder.task.save_task``); this controller only asks, writes and
reacts:

- opening a folder with a task loads the task's model; opening one with neither masks nor a task
  asks for a task (:class:`TaskDialog`); File > New Task... asks at any time, proposing the scheme
  guessed from the folder's masks, channels from the header counts the folder's scan read, and
  the scale and colours from a few images read on the worker while the dialog shows;
- a task with other classes than the open workspace's, or channels that list other images,
  takes effect by opening the folder again (the current mask is saved first; masks are only ever
  written in the folder's scheme); the message then names the images the task's channels leave
  out, with the reason (a warning when it lists none);
- while the model in use predicts other classes than the task's, the banner above the canvas
  says so and predictions are never accepted into the masks (``PredictionController`` asks the
  same class rule);
- the task's models (versions, the model in use, pruning) belong to the folder's model owner
  (``ml.loop.folder_models``): this controller tells it which model the user put into use, asks it to
  delete a version (Model > Versions...), and mirrors what it saves (:meth:`_on_task_saved`);
  it reads the model in use as the window was told of it (``ModelController.current``), never
  one the worker swapped in that the window has not heard of yet;
- a folder another window holds (``Workspace.lock_holder``) opens read-only and the banner says
  who holds it; as that changes (:class:`WriterWatch`) the banner names who holds it now, or
  says none does and how to write it here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from unet_desktop.core.editing.mask_values import background_class
from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.folder_lock import holder_now
from unet_desktop.core.folder.scheme_choice import failed_guess
from unet_desktop.core.folder.task import (
    Task,
    classes_mismatch,
    model_file,
    save_task,
    stored_reference,
)
from unet_desktop.core.folder.task_proposal import (
    folder_loader,
    propose,
    read_sample,
    sampled_keys,
)
from unet_desktop.core.io.input_rule import DEFAULT_NEW, InputRule
from unet_desktop.core.labels import LabelScheme
from unet_desktop.gui.editing.session import EditingSession
from unet_desktop.gui.editing.tool_controller import ToolController
from unet_desktop.gui.model.model_actions import ModelActions
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_controller import PredictionController
from unet_desktop.gui.model.versions_dialog import VersionsDialog
from unet_desktop.gui.task.channel_choice import (
    FolderChannels,
    changes_listing,
    proposed_channels,
    rule_of_channels,
    skipped_text,
)
from unet_desktop.gui.task.class_editor import ClassesDialog, default_scheme
from unet_desktop.gui.task.read_only import read_only_reason
from unet_desktop.gui.task.task_actions import TaskActions
from unet_desktop.gui.task.task_banner import TaskBanner
from unet_desktop.gui.task.task_dialog import TaskDialog
from unet_desktop.gui.task.writer_watch import WriterWatch
from unet_desktop.gui.training.training_commands import TrainingCommands
from unet_desktop.gui.worker import Priority
from unet_desktop.ml.loop.folder_models import FolderModels, folder_models, prediction_mismatch

# the sampled image files a new task's proposal reads before its dialog shows, when they are
# this small together (tens of milliseconds); larger ones are read on the worker
READ_HERE_BYTES = 1 << 20


def _file_bytes(ws: Any, keys: list[str]) -> int | float:
    """The size of the files of the images ``keys`` (inf where one cannot be read)."""
    try:
        return sum(os.stat(path).st_size for path in {ws[key].image_path for key in keys})
    except OSError:
        return float("inf")


def _same_file(a: str | os.PathLike | None, b: str | os.PathLike | None) -> bool:
    return a is not None and b is not None and os.path.realpath(a) == os.path.realpath(b)


def _fitting_rule(ws: Any, model: Any) -> dict:
    """The input rule of a task made without asking: the channels of ``model`` (the one in
    use) where it chooses some, else those New Task proposes (channel 1 in a folder of mostly
    2-channel images); {} where none are needed (gray or RGB)."""
    channels = model.meta.rule.channels if model is not None else None
    if channels is None:
        channels, _ = proposed_channels(FolderChannels.of_workspace(ws))
    return rule_of_channels(channels)


def _lists_other_images(ws: Any, task: Task) -> bool:
    """Whether the folder lists other images under ``task``'s channels than now (the folder's
    image files are only read for it when the channels change)."""
    old = InputRule.from_dict(ws.task.input_rule) if ws.task is not None else None
    new = InputRule.from_dict(task.input_rule)
    if old is not None and old.channels == new.channels:
        return False
    return changes_listing(old, new, FolderChannels.of_workspace(ws))


class TaskController(QObject):
    message = Signal(str)
    error = Signal(str)
    task_changed = Signal()  # the open folder's task was created, edited or got a new version

    def __init__(self, actions: TaskActions, session: EditingSession, models: ModelController,
                 prediction: PredictionController, training: TrainingCommands,
                 model_actions: ModelActions, accept_button: QPushButton,
                 tools: ToolController, banner: TaskBanner,
                 reopen: Callable[[Path, str | None], bool], user_models: Path, dialog_parent: QWidget,
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
        self._watched: FolderModels | None = None  # the owner whose saves this mirrors
        session.workspace_opened.connect(self._on_workspace_opened)
        self.writer_watch = WriterWatch(session, self)
        self.writer_watch.changed.connect(self._update_banner)
        models.model_changed.connect(self._on_model_changed)
        prediction.prediction_shown.connect(lambda _key: self._update_accept())
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

    @property
    def owner(self) -> FolderModels | None:
        """The open folder's model owner (None without a task); this controller mirrors it."""
        ws = self.session.workspace
        if ws is None or ws.task is None:
            return None
        owner = folder_models(ws.root, self.user_models)
        owner.subscribe(self._on_task_saved)
        self._watched = owner
        return owner

    def _on_task_saved(self, root: Path, task: Task) -> None:
        """The owner saved ``root``'s task (a version recorded, pruned, put into use)."""
        ws = self.session.workspace
        if ws is None or not _same_file(ws.root, root):
            return  # another folder's: it reads its task when opened
        ws.reload_task()
        self.task_changed.emit()
        self._update_actions()
        if self.versions_dialog is not None and ws.task is not None:
            self.versions_dialog.show_task(ws.task)

    def refusal(self, model_scheme_: LabelScheme, path: Path | None = None) -> str | None:
        """Why predictions with ``model_scheme_``'s classes (of the model file ``path``) must not
        become this folder's masks (``ml.loop.folder_models.prediction_mismatch``)."""
        ws = self.session.workspace
        if ws is None or ws.task is None:
            return None
        return prediction_mismatch(ws.root, ws.task, path, model_scheme_)

    def held_scheme(self) -> LabelScheme | None:
        """The scheme whose values the open folder's masks may hold, which new classes must
        keep: with a task, when masks are saved; with unsaved edits in memory (they are saved
        in this scheme before the folder reopens in another). None when no mask may hold any:
        a folder without a task reads its saved masks by a guess, which the task may correct."""
        ws, session = self.session.workspace, self.session
        unsaved = any(session.is_dirty(key) for key in session.unsaved_keys())
        saved = ws.task is not None and any(e.has_mask for e in ws.entries)
        return ws.scheme if unsaved or saved else None

    # --- opening a folder ------------------------------------------------------------------------
    def _on_workspace_opened(self) -> None:
        ws = self.session.workspace
        self.restored_model = None
        if self._watched is not None:
            self._watched.unsubscribe(self._on_task_saved)
        self._watched = self.owner  # mirrors what the folder's model owner saves
        self._update_actions()
        waits = self.ask_on_open and ws.task is None and len(ws) and not ws.read_only \
            and not any(e.has_mask for e in ws.entries)
        if not waits and self.prediction.waiting is not None:
            self.prediction.set_waiting(None)  # the folder before it waited for its task
        if ws.task is not None:
            self._restore_model(ws.task)
        elif waits:
            # no model's guess tints the image behind the question: its classes are unknown
            self.prediction.set_waiting("No prediction until the task says what is labelled "
                                        "here (File > New Task...)")
            QTimer.singleShot(0, lambda: self._ask_if_still(ws))
        self._update_banner()
        if self.versions_dialog is not None:
            self.versions_dialog.close()

    def _ask_if_still(self, ws: Any) -> None:
        if self.session.workspace is ws and ws.task is None and self.dialog is None:
            dialog = self.new_task(note=f"{ws.root.name} has no masks and no task yet: say "
                                        "what is labelled here.")
            dialog.finished.connect(lambda _r: self._stop_waiting(ws))
        else:
            self._stop_waiting(ws)

    def _stop_waiting(self, ws: Any) -> None:
        """The question was answered (or not asked): predictions follow again; a task with
        other classes than the model's keeps its guess out of the masks (the banner)."""
        if self.session.workspace is ws and self.prediction.waiting is not None:
            self.prediction.set_waiting(None)

    def _restore_model(self, task: Task) -> None:
        if task.model is None:
            return
        path = model_file(self.session.workspace.root, task.model)
        if not path.is_file():
            self.error.emit(f"{path}: the task's model file is missing; open or train another "
                            "one (Model > Versions... lists the others)")
            return
        self.restored_model = path
        current = self.models.current
        if current is None or not _same_file(current.path, path):
            self.message.emit(f"Loading the task's model {path.name}...")
            self.models.load(path, folders_own=True)

    # --- creating and editing --------------------------------------------------------------------
    def proposed_scheme(self) -> tuple[LabelScheme, str]:
        """The scheme a new task proposes, and a note saying why."""
        ws = self.session.workspace
        if ws.task is not None:
            return ws.scheme, "This folder's task; change what you like."
        masks = sum(1 for e in ws.entries if e.has_mask)
        failed = failed_guess(ws.warnings)
        if masks and failed is not None:  # binary is the fallback, not what the masks hold
            return ws.scheme, (f"This folder has {masks} mask file(s), but their values fit no "
                               f"label scheme by themselves ({failed}). Binary is only a "
                               "starting point: set the classes and the unlabeled value below.")
        if masks:
            return ws.scheme, (f"This folder has {masks} mask file(s); their values look "
                               f"{ws.scheme.kind} ({ws.scheme.num_classes} classes).")
        return default_scheme("binary"), "No masks yet: every pixel starts unlabeled."

    def new_task(self, note: str = "") -> TaskDialog | None:
        ws = self.session.workspace
        if ws is None:
            self.message.emit("Open a folder first")
            return None
        if self._refused_read_only(ws):
            return None
        scheme, why = self.proposed_scheme()
        name = ws.task.name if ws.task is not None else ""
        models_in = ws.task.models_in if ws.task is not None else "folder"
        scale = ws.task.scale if ws.task is not None else "fit"
        rule = ws.task.input_rule if ws.task is not None else None
        images = FolderChannels.of_workspace(ws)  # the task's channels must fit them
        given = None
        if ws.task is None:  # channels from the images (the scale and colours: _look_at_images)
            channels, channels_why = proposed_channels(images)
            given = InputRule(DEFAULT_NEW, channels=channels) if channels else None
            why = " ".join(p for p in (why, channels_why) if p)
            rule = given.to_dict() if given is not None else None
        dialog = TaskDialog(scheme, name, " ".join(p for p in (note, why) if p),
                            self.user_models, self._dialog_parent, models_in, scale, rule,
                            self.held_scheme(), images)
        if ws.task is not None:  # a new set-up keeps what the task starts from (and its scale)
            dialog.set_start_model(ws.task.start_from)
        elif any(e.has_mask for e in ws.entries):  # read by a guess the task may correct, but
            dialog.classes.keep_values(ws.scheme.valid_values)  # no new class takes their values
        dialog.accepted.connect(lambda: self._on_task_accepted(dialog, ws))
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()  # window-modal, without a nested event loop
        if ws.task is None:
            self._look_at_images(dialog, ws, given, scheme.num_classes)
        return dialog

    def _look_at_images(self, dialog: TaskDialog, ws: Any, rule: InputRule | None,
                        classes: int) -> None:
        """The scale and ``classes`` colours that suit a few of the folder's images, proposed
        in ``dialog``: at once where their files are small, else once the worker has read them
        (large images or a network disk take seconds), one image per step, while the dialog
        shows what it reads; closing it cancels."""
        keys = sampled_keys([e.key for e in ws.entries])
        load = folder_loader(ws, rule)
        if _file_bytes(ws, keys) <= READ_HERE_BYTES:
            images = [read_sample(load, key) for key in keys]
            dialog.apply_proposal(propose([i for i in images if i is not None], classes))
            return

        def look(token):  # on the worker thread
            images = []
            for read, key in enumerate(keys, 1):
                token.raise_if_cancelled()
                image = read_sample(load, key)
                images += [image] if image is not None else []
                yield read
            return propose(images, classes)

        dialog.show_looking(0, len(keys))
        try:
            job = self.models.worker.submit(
                look, Priority.INTERACTIVE, name="look at the images for a task",
                on_progress=lambda read: dialog.show_looking(read, len(keys)),
                on_result=dialog.apply_proposal, on_error=dialog.say_not_looked)
        except RuntimeError:  # the window is closing
            return
        dialog.finished.connect(lambda _r: job.cancel())

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
        misfit_masks = any(e.has_mask for e in ws.entries) and ws.scheme.kind != task.scheme.kind
        self.apply_task(task, "Masks of the folder that do not fit the task's classes are "
                              "reported and skipped until corrected" if misfit_masks else "")

    def edit_classes(self) -> ClassesDialog | None:
        """Mask > Classes...: the open folder's classes (a new task if it has none)."""
        ws = self.session.workspace
        if ws is None:
            self.message.emit("Open a folder first")
            return None
        if self._refused_read_only(ws):
            return None
        if ws.task is None:
            self.new_task(note="Classes belong to the folder's task: set it up first.")
            return None
        dialog = ClassesDialog(ws.scheme, self.held_scheme() is not None, self._dialog_parent)
        dialog.accepted.connect(lambda: self._on_classes_accepted(dialog, ws))
        self.classes_dialog = dialog
        dialog.open()
        return dialog

    def _on_classes_accepted(self, dialog: ClassesDialog, ws: Any) -> None:
        if ws is not self.session.workspace or ws.task is None:
            return
        problem = dialog.problem()  # the OK button waits for none; accept() does not
        if problem:
            self.error.emit(f"Cannot change the classes: {problem}")
            return
        self.apply_task(replace(ws.task, scheme=dialog.scheme()))

    def _refused_read_only(self, ws: Any) -> bool:
        """A read-only window changes no task: its task.json is the writing window's (which
        may have changed it since this one read it). Says why."""
        reason = read_only_reason(ws)
        if reason is not None:
            self.message.emit(f"Cannot change the task here: {reason}")
        return reason is not None

    def apply_task(self, task: Task, note: str = "") -> bool:
        """Save ``task`` as the open folder's and take it into use; False if it cannot be
        saved (the error says why). The message names the task, the images its channels leave
        out (the folder is read again when they change which) and ``note``."""
        ws = self.session.workspace
        reason = read_only_reason(ws)
        if reason is not None:  # also refused by the dialogs, before the user fills them
            self.error.emit(f"Cannot change the task here: {reason}")
            return False
        reopen = task.scheme != ws.scheme or _lists_other_images(ws, task)
        on_screen = self.session.current_key  # shown again once the folder is read anew
        try:
            if reopen:
                self.session.save("leave")  # in the folder's scheme, before it changes
                save_task(ws.root, task)
            else:
                ws.save_task(task)
        except (FileError, ValueError) as exc:
            self.error.emit(f"Cannot save the task: {exc}")
            return False
        if reopen and not self.reopen(ws.root, on_screen):  # restores the task's model too
            return False
        self._say_task(task, note)
        _ = self.owner  # a first task: mirror its owner from now on
        self.task_changed.emit()
        self._update_actions()
        if not reopen:
            self._restore_model(task)
        self._update_banner()
        return True

    def _say_task(self, task: Task, note: str) -> None:
        """The task taken into use, and the images its channels leave out (the message of the
        folder read again said so, and this one replaces it); a warning when none is listed."""
        ws = self.session.workspace
        skipped = skipped_text(ws)
        text = "; ".join(p for p in (f"Task {task.name}: {', '.join(task.scheme.names)}"
                                     + (" (sparse labels)" if task.sparse else ""),
                                     skipped, note) if p)
        (self.error if skipped and not ws.entries else self.message).emit(text)

    # --- models ----------------------------------------------------------------------------------
    def _on_model_changed(self, model: Any) -> None:
        self._update_banner()
        ws = self.session.workspace
        if ws is None or ws.task is None or model is None or model.path is None \
                or self.models.using_previous or ws.read_only:
            return
        if self.refusal(model.meta.scheme, model.path):  # e.g. Roll Back to the start model
            self._record_unfitting(model)
        else:  # a model of the task put into use (switch, roll back, a run)
            self._record_in_use(model)

    def _record_unfitting(self, model: Any) -> None:
        """``model`` cannot label the task's classes: the task names no version in use while
        the window predicts with it (Model > Versions marks none; a run planned from the
        version before is kept as a candidate)."""
        try:
            self.owner.use_unfitting(model.path)
        except (FileError, ValueError) as exc:
            self.error.emit(f"Cannot record that {model.label} is in use: {exc}")

    def _record_in_use(self, model: Any) -> None:
        """Tell the folder's model owner that ``model`` is the task's model in use: a version
        file of another folder's task is copied into this task's first (it may prune it), and
        the window loads the copy and says why."""
        owner = self.owner
        try:
            owner.use(model.path)
        except (FileError, ValueError) as exc:  # a file gone is never recorded as in use
            self.error.emit(f"Cannot record {model.label} as the task's model in use: {exc}")
            return
        copy = owner.in_use_file()
        if copy is not None and not _same_file(copy, model.path):  # another folder's version
            self.message.emit(f"{model.path.name} is a version of another folder's task, which "
                              f"may delete it: this task keeps a copy, {copy.name}")
            self.models.load(copy)

    def ensure_task(self) -> Task | None:
        """The open folder's task; one is made from the folder's classes if it has none (the
        learning loop records its versions there). None if it cannot be saved."""
        ws = self.session.workspace
        if ws is None:
            return None
        if ws.task is None:  # from the model in use: as it is, or with its classes mapped
            current = self.models.current
            path = current.path if current is not None else None
            fits = path is not None and classes_mismatch(current.meta.scheme, ws.scheme) is None
            task = Task(ws.root.name, ws.scheme,
                        start_from=str(path) if path is not None and not fits else None,
                        input_rule=_fitting_rule(ws, current))
            if not self.apply_task(task):
                return None
            if fits:  # through the owner: another folder's version file is copied, not named
                self._record_in_use(current)
        return self.session.workspace.task  # the folder read again where the channels skip some

    def parent_version_file(self) -> Path | None:
        """The file of the parent version of the task model in use, if it is still there:
        what Model > Roll Back goes back to once the previous model is not in memory
        (after reopening the folder)."""
        ws, current = self.session.workspace, self.models.current
        task = ws.task if ws is not None else None
        if task is None or current is None or current.path is None:
            return None
        in_use = task.version_of(stored_reference(ws.root, current.path))
        parent = next((v for v in task.versions if in_use is not None
                       and v.version == in_use.parent), None)
        path = model_file(ws.root, parent.file) if parent is not None else None
        return path if path is not None and path.is_file() else None

    def show_versions(self) -> VersionsDialog | None:
        task = self.task
        if task is None:
            self.message.emit("This folder has no task: File > New Task... sets one up")
            return None
        if self.versions_dialog is None:
            self.versions_dialog = VersionsDialog(task, self._dialog_parent)
            self.versions_dialog.use_requested.connect(self.use_version)
            self.versions_dialog.delete_requested.connect(self.delete_version)
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

    def delete_version(self, stored: str) -> bool:
        """Model > Versions > Delete: the version's file and entry go (never the one in use)."""
        owner = self.owner
        if owner is None or self.session.workspace.read_only:
            self.message.emit("Nothing can be deleted here: the folder is read-only")
            return False
        try:
            owner.delete(stored)
        except (FileError, ValueError) as exc:
            self.error.emit(f"Cannot delete that version: {exc}")
            return False
        self.message.emit(f"Deleted {Path(stored).stem}")
        return True

    # --- view ------------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        has_folder = self.session.workspace is not None
        self.actions.new_task.setEnabled(has_folder)
        self.actions.classes.setEnabled(has_folder)
        self.actions.versions.setEnabled(self.task is not None)
        self._name_eraser_background()

    def _name_eraser_background(self) -> None:
        """Mask > Eraser Paints Background names the class it paints (never merely the first)."""
        ws = self.session.workspace
        background = background_class(ws.scheme) if ws is not None else None
        which = f" ('{background.name}')" if background is not None else ""
        self.actions.eraser_background.setText(f"Eraser Paints &Background{which}")
        self.actions.eraser_background.setStatusTip(
            f"Erased pixels are labelled {background.name!r} (value {background.value})"
            if background is not None else "Erased pixels are labelled background")

    def _update_banner(self) -> None:
        model = self.models.active
        reason = self.refusal(model.meta.scheme, model.path) if model is not None else None
        task = self.task
        text = ""
        if reason:
            text = (f"<b>{model.label}</b> does not fit this folder: {reason}. Its prediction is "
                    "shown for reference only and never written into the masks. Label a few "
                    f"images and fine-tune (Training &gt; Fine-tune) to make "
                    f"<b>{task.next_model_name()}</b>.")
        read_only = self._read_only_text()
        if read_only:
            text = read_only + (f"<br>{text}" if text else "")
        self.banner.show_text(text)
        self._update_accept()

    def _read_only_text(self) -> str:
        """The banner's word on another window writing this folder ('' when none did): the one
        that holds it now, or that none does and opening it again here writes it."""
        ws = self.session.workspace
        holder = ws.lock_holder if ws is not None else None
        if holder is None:
            return ""
        now = holder_now(ws.root)
        if now is None:  # closed there (or ended): open it again to write it
            return (f"<b>Read-only:</b> the window that wrote this folder ({holder.describe()}) "
                    "no longer holds it. Nothing you do here is saved until you open the folder "
                    "again here (File &gt; Open Recent); your edits are then saved.")
        return (f"<b>Read-only:</b> this folder is open in another window, {now.describe()}. "
                "Nothing you do here is saved; close it there to edit here.")

    def _update_accept(self) -> None:
        """Accept follows the prediction shown: a misfit model's is refused, the one from the
        strokes (in the task's own classes) is not."""
        shown, model = self.prediction.shown, self.models.active
        scheme = shown.scheme if shown is not None else model.meta.scheme if model else None
        # the file of the model whose prediction is shown (the task's own may be renamed)
        path = model.path if model is not None and (
            shown is None or shown.version == model.version) else None
        reason = self.refusal(scheme, path) if scheme is not None else None
        # the action stays enabled: Enter also finishes polygons; accept() refuses with the reason
        self.model_actions.accept_prediction.setStatusTip(
            f"Not available: {reason}" if reason else "Make the prediction the mask")
        self.accept_button.setEnabled(not reason)
        self.accept_button.setToolTip(f"Not available: {reason}" if reason
                                      else "Make the prediction the mask (Enter)")

