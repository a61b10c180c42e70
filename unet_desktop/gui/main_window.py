"""The annotation window: composes the canvas, the docks, the actions and the session.

The model-in-the-loop parts are their own objects: one worker thread runs every model job,
a :class:`ModelController` holds the models, a :class:`PredictionService` predicts, the
:class:`PredictionController` shows and accepts predictions, and :class:`ModelCommands` /
:class:`TrainingCommands` answer the Model, Training and batch-prediction menus. The window
wires them together and shows their messages; torch is imported only on the worker thread,
after the window is up.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QWidget

from unet_desktop.core.editing.tools import PolygonTool
from unet_desktop.core.errors import FileError
from unet_desktop.core.io.model_header import model_scheme
from unet_desktop.core.io.paths import default_model_path, user_log_dir, user_models_dir
from unet_desktop.core.labels import LabelScheme
from unet_desktop.gui import main_thread_gc
from unet_desktop.gui.actions import WindowActions
from unet_desktop.gui.editing.autosave_controller import DEFAULT_DELAY_MS
from unet_desktop.gui.editing.canvas import Canvas
from unet_desktop.gui.editing.contrast_controller import ContrastController
from unet_desktop.gui.editing.contrast_dock import ContrastDock
from unet_desktop.gui.editing.editing_commands import EditingCommands
from unet_desktop.gui.editing.file_list_dock import FileListDock
from unet_desktop.gui.editing.folder_opened import opened_message
from unet_desktop.gui.editing.image_list_model import shown_name
from unet_desktop.gui.editing.mask_check import MaskCheck
from unet_desktop.gui.editing.session import EditingSession
from unet_desktop.gui.editing.slice_commands import SliceCommands
from unet_desktop.gui.editing.tool_controller import ToolController
from unet_desktop.gui.editing.tool_dock import ToolDock
from unet_desktop.gui.greyed_reasons import (
    NO_PREVIOUS_MODEL,
    NO_PREVIOUS_SLICE,
    NO_TASK_YET,
    NOTHING_TO_ROLL_BACK_TO,
    GreyedReasons,
)
from unet_desktop.gui.help_dialogs import HelpMenu, about_rows
from unet_desktop.gui.model.live_prediction import LivePrediction
from unet_desktop.gui.model.model_actions import ModelActions
from unet_desktop.gui.model.model_commands import ModelCommands
from unet_desktop.gui.model.model_controller import ModelController
from unet_desktop.gui.model.prediction_controller import PredictionController
from unet_desktop.gui.model.prediction_display import PredictionDisplay
from unet_desktop.gui.model.prediction_dock import PredictionDock
from unet_desktop.gui.model.prediction_service import PredictionService
from unet_desktop.gui.recent_menu import fill_recent_menu
from unet_desktop.gui.settings import AppSettings
from unet_desktop.gui.status import PointerStatus
from unet_desktop.gui.task.task_actions import TaskActions
from unet_desktop.gui.task.task_banner import TaskBanner, with_banner
from unet_desktop.gui.task.task_controller import TaskController
from unet_desktop.gui.text_entry_keys import TextEntryKeys
from unet_desktop.gui.training.learning_controller import LearningController
from unet_desktop.gui.training.training_commands import TrainingCommands
from unet_desktop.gui.training.training_dock import TrainingDock
from unet_desktop.gui.worker import Worker, default_torch_threads

log = logging.getLogger(__name__)
APP_TITLE = "unet-desktop"
MESSAGE_MS = 10_000
TRAINING_DOCK_HEIGHT = 270
SHUTDOWN_S = 10.0  # how long closing waits for the running job's step


def moved_inside(frame: QRect, available: QRect) -> QPoint:
    """Where a window's ``frame`` goes to lie inside ``available`` (a screen's area without
    panels): moved as little as it takes; a frame larger than the area keeps its top-left
    corner on the area's."""
    x = max(available.left(), min(frame.left(), available.right() + 1 - frame.width()))
    y = max(available.top(), min(frame.top(), available.bottom() + 1 - frame.height()))
    return QPoint(x, y)


class MainWindow(QMainWindow):
    """Open a folder, walk its images, paint masks; everything saves itself."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        session: EditingSession | None = None,
        autosave_delay_ms: int = DEFAULT_DELAY_MS,
        parent: QWidget | None = None,
        *,
        model_path: str | Path | None = None,
        load_model: bool = True,
        ask_for_task: bool = True,
    ) -> None:
        """``model_path``: the model to load once the window is up (None: the one opened last,
        else the shipped default, unless the folder's task has its own); ``load_model=False``
        starts without any model. ``ask_for_task``: opening a folder with neither masks nor a
        task asks what is labelled there."""
        super().__init__(parent)
        self._first_model: Path | None = None  # the model file about to load, if any
        self.settings = settings or AppSettings()
        self.session = session or EditingSession(autosave_delay_ms=autosave_delay_ms, parent=self)
        self.canvas = Canvas()
        self.task_banner = TaskBanner()  # where the prediction is shown: a model that does not fit
        self.setCentralWidget(with_banner(self.task_banner, self.canvas))
        self._ask_for_task = ask_for_task
        self.actions = WindowActions(self)
        self.actions.build_menus(self.menuBar())
        self.file_dock = FileListDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.file_dock)
        self.tool_dock = ToolDock(list(self.actions.tools.values()), self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.tool_dock)
        self.tools = ToolController(self.session, self.canvas, self.settings.brush_size, self)
        self.pointer_status = PointerStatus()
        self.statusBar().addPermanentWidget(self.pointer_status)
        self.editing = EditingCommands(self.session, self.canvas, self.tools, self.tool_dock,
                                       self.actions, self.settings, self.pointer_status, self)
        self._error_box: QMessageBox | None = None
        self.recovered_keys: list[str] = []  # edits recovered from a crashed session
        self.last_error = ""
        self._connect_actions()
        self._connect_widgets()
        self.text_entry_keys = TextEntryKeys(self, self.canvas)  # Enter in a box is the box's
        self._build_model_parts()
        self.file_dock.set_sort_mode(self.settings.file_sort)
        self._update_recent_menu()
        self._on_edit_state_changed()
        self.resize(1200, 800)
        if self.settings.window_geometry is not None:
            self.restoreGeometry(self.settings.window_geometry)
        if self.settings.window_state is not None:
            self.restoreState(self.settings.window_state)
        if load_model:  # after the window shows: loading imports torch (on the worker)
            path = Path(model_path) if model_path is not None else self._last_model()
            self._first_model = path or default_model_path()
            QTimer.singleShot(0, lambda: self._load_first_model(path, model_path is not None))

    # --- wiring --------------------------------------------------------------------------------
    def _connect_actions(self) -> None:
        a = self.actions
        a.open_folder.triggered.connect(self._on_open_folder_requested)
        a.save.triggered.connect(lambda: self.session.save("save"))
        a.quit.triggered.connect(self.close)
        a.recent_menu.aboutToShow.connect(self._update_recent_menu)  # a folder gone meanwhile
        self.discard_leftovers = QAction("Discard Unrecovered Autosaves...", self)
        a.file_menu.insertAction(a.file_menu_end, self.discard_leftovers)
        self.discard_leftovers.triggered.connect(self.discard_unrecovered_autosaves)
        a.undo.triggered.connect(self.session.undo)
        a.redo.triggered.connect(self.session.redo)
        a.mark_verified.triggered.connect(self._on_mark_verified)
        a.finish_polygon.triggered.connect(self.tools.finish_polygon)
        a.cancel.triggered.connect(self.tools.cancel)
        a.next_image.triggered.connect(lambda: self.file_dock.select_offset(1))
        a.previous_image.triggered.connect(lambda: self.file_dock.select_offset(-1))

    def _connect_widgets(self) -> None:
        s = self.session
        s.document_opened.connect(self._on_document_opened)
        s.mask_changed.connect(self.canvas.update_mask_region)
        s.edit_state_changed.connect(self._on_edit_state_changed)
        s.entry_changed.connect(self._on_entry_changed)
        s.saved.connect(self._on_saved)
        s.autosaved.connect(
            lambda key: self.statusBar().showMessage(f"Autosaved {shown_name(key)}", 3000))
        s.error.connect(self._on_error)
        s.notice.connect(lambda text: self.statusBar().showMessage(shown_name(text), MESSAGE_MS))
        self.file_dock.image_selected.connect(self.session.open_image)
        self.file_dock.sort_mode_changed.connect(self._on_sort_mode_changed)

    def _build_model_parts(self) -> None:
        """The worker, the models, predictions and the menus and docks that drive them."""
        st = self.settings
        self.worker = Worker(default_torch_threads(), self)
        self.models = ModelController(self.worker, st.device, st.prediction_mode, self,
                                      tta=st.flip_averaging)
        self.mask_check = MaskCheck(self.worker, self)
        self.mask_check.invalid_found.connect(self.file_dock.refresh_entry)
        self.mask_check.checked.connect(self._on_masks_checked)
        session = self.session  # the one owner of the image on screen
        self.models.open_folder = lambda: session.workspace
        self.predictions = PredictionService(self.worker, self.models,
                                             lambda: session.current_key, parent=self)
        self.model_actions = ModelActions(self)
        self.model_actions.build_menus(self.menuBar(), self.actions)
        self.prediction_dock = PredictionDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.prediction_dock)
        self.training_dock = TrainingDock(self.worker, self)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.training_dock)
        self.training_dock.hide()  # under the canvas when a run starts
        self.contrast_dock = ContrastDock(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.contrast_dock)
        self.contrast_dock.hide()  # shows itself for 12/16-bit, float and multi-channel images
        self.contrast = ContrastController(self.session, self.canvas, self.contrast_dock, self)
        self.actions.add_panels([self.file_dock, self.tool_dock, self.prediction_dock,
                                 self.training_dock, self.contrast_dock])
        self.slice_commands = SliceCommands(self.session, self.actions.image_menu, self)
        # connected after the window's own document_opened handler, which sets the canvas
        self.prediction = PredictionController(self.session, self.predictions, self.models,
                                               self.canvas, self.file_dock,
                                               lambda: st.auto_accept, self)
        self.live_prediction = LivePrediction(self.session, self.prediction, self)
        self.model_commands = ModelCommands(self.model_actions, self.models, st, self, self)
        self.training_commands = TrainingCommands(self.model_actions, self.models, self.session,
                                                  self.training_dock, user_models_dir(), self,
                                                  self)
        self.tools.set_prediction_source(self.prediction.shown_for_editing)
        self.prediction_display = PredictionDisplay(st, self.canvas, self.prediction_dock,
                                                    self.model_actions, self.prediction, self)
        self.task_actions = TaskActions(self)
        self.task_actions.build_menus(self.menuBar(), self.actions, self.model_actions)
        self.task_commands = TaskController(
            self.task_actions, self.session, self.models, self.prediction, self.training_commands,
            self.model_actions, self.prediction_dock.accept_button, self.tools, self.task_banner,
            self.open_folder, user_models_dir(), self, self._ask_for_task, self)
        self.model_commands.fallback_previous = self.task_commands.parent_version_file
        self.training_commands.ensure_task = self.task_commands.ensure_task
        self.task_commands.task_changed.connect(self.model_commands.refresh_rollback)
        self.session.workspace_opened.connect(self.model_commands.refresh_rollback)
        for changed in (self.session.workspace_opened, self.task_commands.task_changed):
            changed.connect(lambda: self.prediction_dock.show_sparse(
                self.session.workspace is not None
                and self.session.workspace.scheme.ignore_value is not None))
        self.learning = LearningController(
            self.model_actions.learn_as_i_correct, self.session, self.models, self.prediction,
            self.predictions, self.task_commands, self.training_dock, self)
        self.greyed_reasons = GreyedReasons(self, [
            (self.task_actions.versions, NO_TASK_YET),
            (self.model_actions.compare_previous, NO_PREVIOUS_MODEL),
            (self.model_actions.rollback, NOTHING_TO_ROLL_BACK_TO),
            (self.slice_commands.from_previous, NO_PREVIOUS_SLICE)])
        self._connect_model_parts()
        self.help = HelpMenu(self, self._about_rows)
        self.help.build_menu(self.menuBar())

    def _about_rows(self) -> list[tuple[str, str]]:
        return about_rows(self.models.active, self.models.device_name, user_log_dir())

    def _connect_model_parts(self) -> None:
        a, dock, bar = self.model_actions, self.prediction_dock, self.statusBar()
        for source in (self.prediction, self.model_commands, self.training_commands,
                       self.task_commands, self.learning, self.tools, self.editing,
                       self.greyed_reasons):
            source.message.connect(lambda text: bar.showMessage(text, MESSAGE_MS))
        for source in (self.model_commands, self.training_commands, self.task_commands,
                       self.learning):
            source.error.connect(self._on_error)
        self.prediction.status_changed.connect(dock.show_status)
        self.model_commands.model_label_changed.connect(dock.show_model)
        self.training_commands.entry_changed.connect(self._on_entry_changed)
        self.training_dock.reveal_requested.connect(self.reveal_training_dock)
        a.accept_prediction.triggered.connect(self._on_enter)
        a.next_uncertain.triggered.connect(self.prediction.next_most_uncertain)
        dock.accept_requested.connect(self.prediction.accept)
        dock.next_uncertain_requested.connect(self.prediction.next_most_uncertain)
        self.models.model_changed.connect(self._freeze_long_lived_objects)

    def reveal_training_dock(self) -> None:
        """Show the training dock (a fine-tune, a learning round or its curve) under the canvas
        at TRAINING_DOCK_HEIGHT, not over most of it; when its minimum width widens the window,
        the window moves back inside its screen."""
        dock = self.training_dock
        dock.show()
        dock.raise_()
        self.resizeDocks([dock], [TRAINING_DOCK_HEIGHT], Qt.Orientation.Vertical)
        QTimer.singleShot(0, self._keep_inside_screen)  # once the dock's content is laid out

    def _keep_inside_screen(self) -> None:
        """Move the window back inside its screen's available area (a dock widened it)."""
        screen = self.screen()
        if screen is None or not self.isVisible() or self.isMaximized() or self.isFullScreen():
            return
        frame = self.frameGeometry()
        frame.setWidth(frame.width() + max(0, self.minimumWidth() - self.width()))  # resizing
        frame.setHeight(frame.height() + max(0, self.minimumHeight() - self.height()))
        inside = moved_inside(frame, screen.availableGeometry())
        if inside != frame.topLeft():
            self.move(inside)

    def _freeze_long_lived_objects(self, model) -> None:
        """Once the first model has loaded (torch imported), garbage collections skip every
        object that exists now: 1 ms instead of 0.2-0.3 s (gui/main_thread_gc.py)."""
        if model is None:
            return
        self.models.model_changed.disconnect(self._freeze_long_lived_objects)
        main_thread_gc.install(QApplication.instance()).freeze_survivors()

    def _load_first_model(self, path: Path | None, explicit: bool = False) -> None:
        """Load the start-up model, unless the folder's task already loaded its own (a model
        given on the command line still wins)."""
        if self.worker.stopping:  # closed before the event loop ran
            return
        if self.task_commands.restored_model is not None and not explicit:
            return
        self.model_commands.load_at_start(path)

    def _model_scheme(self) -> LabelScheme | None:
        """The label scheme of the model in use as the window was told of it, or of the
        start-up model about to load (read from its file's metadata); None without a model."""
        loaded = self.models.current
        if loaded is not None:
            return loaded.meta.scheme
        return model_scheme(self._first_model) if self._first_model is not None else None

    def _last_model(self) -> Path | None:
        path = self.settings.model_path
        return path if path is not None and path.is_file() else None

    # --- folders -------------------------------------------------------------------------------
    def open_folder(self, folder: str | Path, show: str | None = None) -> bool:
        """Open a workspace; shows what was skipped or recovered, and the image ``show`` (the
        first one when it is not there). False if it cannot be opened."""
        try:
            recovered = self.session.open_workspace(folder, self._model_scheme())
        except FileError as exc:
            self._on_error(f"Cannot open the folder: {exc}")
            return False
        ws = self.session.workspace
        self.settings.add_recent_folder(ws.root)
        self._update_recent_menu()
        self.editing.set_scheme(ws.scheme)
        self.file_dock.set_entries(ws.entries, self.session.is_dirty, ws.invalid)
        self.mask_check.start(ws)
        if recovered:
            self.recovered_keys = recovered
        self.statusBar().showMessage(opened_message(ws, recovered), MESSAGE_MS)
        keys = self.file_dock.visible_keys()
        if keys:
            self.file_dock.select_key(show if show in keys else keys[0])
        else:
            self.canvas.clear_content()
        return True

    def _on_open_folder_requested(self) -> None:
        start = self.settings.recent_folders[0] if self.settings.recent_folders else ""
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images", start)
        if folder:
            self.open_folder(folder)

    def _update_recent_menu(self) -> None:
        fill_recent_menu(self.actions.recent_menu, self.settings.recent_folders, self.open_folder,
                         self._on_error)

    def discard_unrecovered_autosaves(self) -> int:
        """Forget the autosaves left by a session that ended unexpectedly that match no image:
        of folders that are gone (moved, renamed, deleted) and of images not in the open
        folder. Asks first; returns how many were forgotten."""
        journal = self.session.journal
        ws = self.session.workspace
        leftovers = journal.left_in_gone_folders()
        if ws is not None:
            leftovers += [e for e in journal.left_behind(ws.root) if e.key not in ws]
        if not leftovers:
            self.statusBar().showMessage("No unrecovered autosaves to discard", MESSAGE_MS)
            return 0
        names = ", ".join(f"{e.key} of {Path(e.workspace).name}" for e in leftovers[:5])
        more = f" and {len(leftovers) - 5} more" if len(leftovers) > 5 else ""
        answer = QMessageBox.question(
            self, APP_TITLE,
            f"Discard the unsaved edits of {len(leftovers)} image(s) left when the app ended "
            f"unexpectedly, which match no image here ({names}{more})? They are kept in "
            f"{journal.masks_dir} until then.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Discard:
            return 0
        removed = journal.forget(leftovers)
        self.statusBar().showMessage(f"Discarded {removed} unrecovered autosave(s)", MESSAGE_MS)
        return removed

    # --- images --------------------------------------------------------------------------------
    def _on_masks_checked(self, invalid: dict[str, str]) -> None:
        if invalid:
            self.statusBar().showMessage(
                f"{len(invalid)} mask file(s) cannot be used (shown as invalid in the list; "
                f"training and batch predict skip them): {'; '.join(list(invalid.values())[:3])}",
                MESSAGE_MS)

    def _on_document_opened(self) -> None:
        document = self.session.document
        if document is None:
            self.canvas.clear_content()
        else:
            self.canvas.set_content(document.image, document.mask, document.scheme)
        self._on_edit_state_changed()

    def _on_entry_changed(self, key: str) -> None:
        self.file_dock.refresh_entry(key)

    def _on_edit_state_changed(self) -> None:
        document = self.session.document
        a = self.actions
        a.undo.setEnabled(bool(document and document.can_undo))
        a.redo.setEnabled(bool(document and document.can_redo))
        a.undo.setText((document and document.undo_label) or "&Undo")
        a.redo.setText((document and document.redo_label) or "&Redo")
        for action in (a.save, a.mark_verified, a.fill_holes, a.remove_islands):
            action.setEnabled(document is not None)
        a.trimap_band.setEnabled(document is not None and document.scheme.kind == "trimap")
        ws = self.session.workspace
        parts = [APP_TITLE]
        if ws is not None:
            parts.insert(0, ws.root.name)
        if document is not None:
            parts.insert(0, f"{document.key}[*]")
        self.setWindowTitle(" — ".join(parts))
        # the session's word, as the file list's '*': a prediction only viewed is not unsaved
        self.setWindowModified(document is not None and self.session.is_dirty(document.key))

    def _on_saved(self, key: str, reason: str) -> None:
        ws = self.session.workspace
        if ws is not None and key in ws and not ws[key].has_mask:  # every edit undone
            self.statusBar().showMessage(f"{shown_name(key)} has no mask again (every edit "
                                         "undone); a mask file saved before is kept in "
                                         ".unet-desktop/replaced/", MESSAGE_MS)
            return
        self.statusBar().showMessage(f"Saved {shown_name(key)}"
                                     + (f" ({reason})" if reason != "save" else ""), 3000)

    def _on_mark_verified(self) -> None:
        if self.session.mark_verified():
            self.statusBar().showMessage(f"{shown_name(self.session.current_key)} marked "
                                         "verified", 3000)

    def _on_sort_mode_changed(self, mode: str) -> None:
        self.settings.file_sort = mode

    def _on_error(self, message: str) -> None:
        """Errors go to the status bar and to a non-blocking message box (a file name that is
        not UTF-8 shown with its bytes as Latin-1 letters, where Qt would drop them)."""
        message = shown_name(message)
        self.statusBar().showMessage(message, MESSAGE_MS)
        box = self._error_box
        if box is None:
            box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, "", parent=self)
            box.setWindowModality(Qt.WindowModality.NonModal)
            self._error_box = box
        box.setText(message)
        box.show()
        self.last_error = message

    # --- predictions ---------------------------------------------------------------------------
    def _on_enter(self) -> None:
        """Enter finishes an open polygon, otherwise accepts the prediction."""
        tool = self.tools.tool
        if isinstance(tool, PolygonTool) and tool.points:
            self.tools.finish_polygon()
        else:
            self.prediction.accept(ask=True)  # over the user's strokes only if they say so

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        failed = self.session.save_all("quit")
        if failed and not self.confirm_discard(failed):
            event.ignore()
            return
        # a fine-tune stops as Cancel Training does: its best model so far is recorded in its
        # task while this window still holds the folder
        self.training_commands.stop_for_quit(SHUTDOWN_S)
        if self.session.workspace is not None:
            self.session.journal.clear(self.session.workspace.root)
            self.session.workspace.close()  # another window may write the folder now
        self.session.shutdown()
        self.settings.window_geometry = self.saveGeometry()
        self.settings.window_state = self.saveState()
        self.settings.sync()
        self.prediction.stop()
        self.live_prediction.stop()
        running = self.worker.running
        if not self.worker.shutdown(SHUTDOWN_S):  # cancels a long run after its current step
            log.warning("quitting although the job %r did not stop within %.0f s (its result "
                        "is lost; saved masks and model files are whole)",
                        running.name if running else "?", SHUTDOWN_S)
        event.accept()

    def _offer_to_write_here(self, keys: list[str]) -> list[str] | None:
        """The folder was read-only because another window wrote it, and that window no longer
        holds it: offer to open it again here (writable; the edits are saved by recovery).
        Returns what still could not be saved, or None to stay (Cancel)."""
        ws = self.session.workspace
        answer = QMessageBox.warning(
            self,
            APP_TITLE,
            f"{len(keys)} mask(s) could not be saved ({', '.join(keys[:5])}): {ws.root.name} "
            f"was written by another window ({ws.lock_holder.describe()}), which no longer "
            "holds it. Save: open the folder again here, which saves your edits, then quit. "
            "Discard: quit and lose those edits.",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return None
        if answer == QMessageBox.StandardButton.Discard:
            return []
        if not self.open_folder(ws.root) or self.session.workspace.read_only:
            return keys  # said why; the next question is whether to lose them
        return self.session.save_all("quit")

    def confirm_discard(self, keys: list[str]) -> bool:
        """Ask whether to quit although ``keys`` could not be saved (or, when the window that
        wrote the folder has ended, whether to write it here first)."""
        if self.session.writer_ended():
            left = self._offer_to_write_here(keys)
            if left is None or not left:
                return left is not None
            keys = left
        answer = QMessageBox.warning(
            self,
            APP_TITLE,
            f"{len(keys)} mask(s) could not be saved ({', '.join(keys[:5])}). "
            "Quit anyway and lose those edits?",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Discard
