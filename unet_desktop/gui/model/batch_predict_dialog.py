"""File > Batch Predict Folder...: predict a whole folder on the worker thread, with progress.

The dialog is modeless: the window stays usable (and keeps getting its own predictions, which
the worker runs between two batches). Masks marked corrected or verified are never overwritten
(``ml.inference.batch_predict`` checks again right before each write); nor are the masks of images that
``protect(root, key)`` names (the window passes the image being edited and those with unsaved
edits). Only images without a mask are predicted: a second run resumes, and the masks that an
earlier model predicted are kept, unless "Overwrite" is ticked (:data:`OVERWRITE_HINT`). The
summary lists what was written, skipped and failed, each with its reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.gui.model.model_controller import MODES, ModelController
from unet_desktop.gui.worker import DONE, FAILED, Job, Priority
from unet_desktop.ml.inference.batch_job import BatchSettings, Protect, batch_predictor, run_batch
from unet_desktop.ml.inference.batch_progress import files_with

SUMMARY_LINES = 500  # per category; a summary of 100k files must stay readable
OVERWRITE_TEXT = "Overwrite masks predicted before, by an earlier model or this one"
OVERWRITE_HINT = (
    "Unticked, only images without a mask are predicted: masks a model predicted before are "
    "kept. Masks marked corrected or verified are never overwritten. In an output folder, a "
    "mask changed by hand or not written by unet-desktop is kept unless this is ticked; then "
    "it is replaced, and a copy kept in the output folder's .unet-desktop/replaced/.")


@dataclass
class BatchSummary:
    """What a run did, accumulated from the progress reports (Qt-free). The reports count jobs:
    an image, or one slice of a multi-page TIFF; the headline counts files as the CLI does (a
    stack is written when any of its slices was predicted) and the slices apart."""

    total: int = 0
    done: int = 0
    written: list[tuple[str, str]] = field(default_factory=list)  # (key, output path)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    warned: list[tuple[str, str]] = field(default_factory=list)  # written, with a warning
    elapsed_s: float = 0.0
    finished: bool = False
    cancelled: bool = False
    error: str = ""  # why the run stopped, when it failed
    output: Path | None = None  # the folder the masks go to (None: the folder's own masks)
    file_statuses: dict[Path, set[str]] = field(default_factory=dict)  # of its slices

    def add(self, progress: Any) -> None:
        self.total, self.done = progress.total, progress.done
        self.elapsed_s = progress.elapsed_s
        self.finished, self.cancelled = progress.finished, progress.cancelled
        for r in progress.results:
            self.file_statuses.setdefault(Path(r.image_path), set()).add(r.status)
            if r.status == "predicted":
                self.written.append((r.key, str(r.output or "")))
                if r.reason:  # e.g. values beyond the range the model's input rule fixed
                    self.warned.append((r.key, r.reason))
            elif r.status == "skipped":
                self.skipped.append((r.key, r.reason))
            else:
                self.failed.append((r.key, r.reason))

    @property
    def has_stacks(self) -> bool:
        """Whether a result so far was a slice of a stack (more results than files)."""
        return len(self.written) + len(self.skipped) + len(self.failed) \
            > len(self.file_statuses)

    @property
    def unit(self) -> str:
        """What the progress counts: images, or slices once a stack is among them."""
        return "slices" if self.has_stacks else "images"

    def files(self, status: str) -> int:
        """Image files written ("predicted": any slice was), "skipped" or "failed"."""
        return files_with(self.file_statuses, status)

    def headline(self) -> str:
        warned = f" ({len(self.warned)} with a warning)" if self.warned else ""
        if not self.has_stacks:
            counts = (f"{len(self.written)} written{warned}, {len(self.skipped)} skipped, "
                      f"{len(self.failed)} failed of {self.total} images")
        else:  # like the CLI: files, then the slices
            done = self.finished and not self.cancelled and not self.error
            of = f" of {len(self.file_statuses)} images" if done else " images so far"
            counts = (f"{self.files('predicted')} written, {self.files('skipped')} skipped, "
                      f"{self.files('failed')} failed{of} (slices: {len(self.written)} "
                      f"written{warned}, {len(self.skipped)} skipped, {len(self.failed)} "
                      f"failed of {self.total})")
        if self.error:
            return f"Failed: {self.error}" + (f" (before that: {counts})" if self.done else "")
        state = "Cancelled" if self.cancelled else "Finished" if self.finished else "Running"
        into = f"; masks in {self.output}" if self.output is not None else ""
        return f"{state}: {counts} in {self.elapsed_s:.1f} s{into}"

    def text(self) -> str:
        lines = [self.headline()]
        for title, items in (("Failed", self.failed), ("Written with a warning", self.warned),
                             ("Skipped", self.skipped), ("Written", self.written)):
            if items:
                lines.append(f"\n{title} ({len(items)}):")
                lines += [f"  {key}: {why}" if why else f"  {key}"
                          for key, why in items[:SUMMARY_LINES]]
                if len(items) > SUMMARY_LINES:
                    lines.append(f"  ... and {len(items) - SUMMARY_LINES} more")
        return "\n".join(lines)


class RateEstimator:
    """Images per second and time left, measured from the first report (skips are instant)."""

    def __init__(self) -> None:
        self._start: tuple[int, float] | None = None

    def update(self, done: int, total: int, now: float | None = None) -> tuple[float, float]:
        """(images per second, seconds left); (0, inf) until there is a rate."""
        now = time.monotonic() if now is None else now
        if self._start is None:
            self._start = (done, now)
            return 0.0, float("inf")
        done0, t0 = self._start
        if done <= done0 or now <= t0:
            return 0.0, float("inf")
        rate = (done - done0) / (now - t0)
        return rate, (total - done) / rate


def format_duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "--:--"
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def batch_job(settings: BatchSettings, models: ModelController, workspace: Any | None,
              protect: Protect | None = None):
    """The worker-thread job: :func:`unet_desktop.ml.inference.batch_job.run_batch` with the model the
    window predicts with when the run starts (its network copied, never shared; its file tells
    the task's own model, as in the window)."""

    def active():
        model = models.active
        return (model.predictor.inner, model.path) if model is not None else None

    def run(token):
        predictor = batch_predictor(settings, active, models.message.emit)
        return run_batch(settings, predictor, workspace, protect, token)

    return run


class BatchPredictDialog(QDialog):
    """Settings, progress bar with rate and ETA, Cancel, and the summary of a batch run.

    Closing the dialog does not stop a run: keep the dialog object and show it again.
    """

    run_started = Signal()
    progress_changed = Signal(object)  # BatchSummary, after each batch
    # image keys whose masks this batch wrote (refresh the list); a list object, as Signal(list)
    # makes each key a Qt string, which drops the bytes of a name not UTF-8
    masks_written = Signal(object)
    run_finished = Signal(object)  # BatchSummary

    def __init__(self, models: ModelController, workspace: Any | None = None,
                 parent: QWidget | None = None, protect: Protect | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Batch Predict Folder")
        self.setModal(False)
        self.models = models
        self.workspace = workspace
        self.protect = protect
        self.job: Job | None = None
        self.summary = BatchSummary()
        self._rate = RateEstimator()
        self._build()
        if workspace is not None:
            self.folder_edit.setText(str(workspace.root))
        self._on_running_changed(False)

    # --- widgets --------------------------------------------------------------------------------
    def _build(self) -> None:
        self.folder_edit = QLineEdit()
        self.model_edit = QLineEdit()
        self.model_edit.setPlaceholderText("the model predicting now")
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("the folder's own mask folder")
        self.output_edit.setToolTip("A folder for the masks; a relative path (predictions) is "
                                    "taken inside the folder of images")
        self.mode_combo = QComboBox()
        self.mode_combo.addItems(list(MODES))
        self.mode_combo.setCurrentText(self.models.mode)
        self.mode_combo.activated.connect(
            lambda _i: setattr(self, "_chosen_mode", self.mode_combo.currentText()))
        self._chosen_mode = self.models.mode  # the user's choice, for a fit-scale model
        self.model_edit.textChanged.connect(self._show_mode)
        self.models.model_changed.connect(self._on_model_changed)
        self.tta_check = QCheckBox("Flip averaging (TTA): steadier masks, 3x slower")
        self.tta_check.setChecked(self.models.tta)
        self.overwrite_check = QCheckBox(OVERWRITE_TEXT)
        self.overwrite_hint = QLabel(OVERWRITE_HINT)
        self.overwrite_hint.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Folder:", self._with_browse(self.folder_edit, self._browse_folder))
        form.addRow("Model:", self._with_browse(self.model_edit, self._browse_model))
        form.addRow("Output:", self._with_browse(self.output_edit, self._browse_output))
        form.addRow("Mode:", self.mode_combo)
        form.addRow(self.tta_check)
        form.addRow(self.overwrite_check)
        form.addRow(self.overwrite_hint)
        self.progress_bar = QProgressBar()
        self.status_label = QLabel("")
        self.summary_view = QPlainTextEdit()
        self.summary_view.setReadOnly(True)
        self.start_button = QPushButton("Start")
        self.cancel_button = QPushButton("Cancel")
        self.close_button = QPushButton("Close")
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_button, self.cancel_button, self.close_button):
            b.setAutoDefault(False)  # Enter in a path field presses no button (see _with_browse)
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        layout.addWidget(self.summary_view, 1)
        layout.addLayout(buttons)
        self.resize(620, 460)

    def _model_scale(self) -> str | None:
        """The training scale of the model the run will use (the file named, else the model
        predicting now); None when it cannot be read."""
        text = self.model_edit.text().strip()
        if text:
            meta = model_metadata(Path(text).expanduser())
            return meta.get("scale", "fit") if meta is not None else None
        model = self.models.active
        return model.meta.scale if model is not None else None

    def _show_mode(self) -> None:
        """The mode the model will really use: a native-scale model predicts in tiles."""
        native = self._model_scale() == "native"
        self.mode_combo.setCurrentText("tile" if native else self._chosen_mode)
        self.mode_combo.setEnabled(not native and self.start_button.isEnabled())
        self.mode_combo.setToolTip(
            "A native-scale model predicts in tiles at the images' own pixels, whatever the mode"
            if native else "resize: at the model's training scale; tile: native resolution in "
                           "overlapping tiles (large images)")

    def _with_browse(self, edit: QLineEdit, browse) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(edit, 1)
        button = QPushButton("Browse...")
        # not the dialog's default: Enter in any field opened the first row's chooser
        button.setAutoDefault(False)
        button.clicked.connect(browse)
        box.addWidget(button)
        return row

    def _browse_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of images", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _browse_output(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Write masks into", self.output_edit.text())
        if folder:
            self.output_edit.setText(folder)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", self.model_edit.text(),
                                              "Models (*.safetensors);;All files (*)")
        if path:
            self.model_edit.setText(path)

    # --- running --------------------------------------------------------------------------------
    def settings(self) -> BatchSettings:
        """The run the dialog's fields ask for; a relative folder is taken inside the folder open
        in the window, a relative output inside the folder of images (never the directory the
        app was started from, which the user cannot see)."""
        model, output = self.model_edit.text().strip(), self.output_edit.text().strip()
        folder = Path(self.folder_edit.text().strip()).expanduser()
        if not folder.is_absolute() and self.workspace is not None:
            folder = Path(self.workspace.root) / folder
        return BatchSettings(
            folder=folder,
            model_path=Path(model).expanduser() if model else None,
            output=folder / Path(output).expanduser() if output else None,
            mode=self.mode_combo.currentText(), tta=self.tta_check.isChecked(),
            overwrite=self.overwrite_check.isChecked(), device=self.models.device_name)

    def start(self) -> Job | None:
        """Start a run with the dialog's settings (a second run resumes the first)."""
        if self.job is not None and not self.job.finished:
            return None
        settings = self.settings()
        if not settings.folder.is_absolute():
            self._show_error(f"{settings.folder}: type the folder's full path, or choose it "
                             "with Browse")
            return None
        if not settings.folder.is_dir():
            self._show_error(f"{settings.folder}: not a folder")
            return None
        self.summary, self._rate = BatchSummary(output=settings.output), RateEstimator()
        self.summary_view.setPlainText("")
        self.status_label.setText("Starting...")
        self.progress_bar.setRange(0, 0)
        self.job = self.models.worker.submit(
            batch_job(settings, self.models, self.workspace, self.protect), Priority.BACKGROUND,
            name="batch predict", on_progress=self._on_progress, on_finished=self._on_finished)
        self._on_running_changed(True)
        self.run_started.emit()
        return self.job

    def cancel(self) -> None:
        """Stop after the current batch; what was written stays (a later run resumes)."""
        if self.job is not None and not self.job.finished:
            self.job.cancel()
            self.status_label.setText("Cancelling after the current batch...")
            self.cancel_button.setEnabled(False)

    def _on_progress(self, progress: Any) -> None:
        self.summary.add(progress)
        written = [r.key for r in progress.results if r.status == "predicted"]
        if written:
            self.masks_written.emit(written)
        total = max(progress.total, 1)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(progress.done)
        rate, left = self._rate.update(progress.done, progress.total)
        self.status_label.setText(
            f"{progress.done} / {progress.total} {self.summary.unit} · "
            f"{rate:.1f} {self.summary.unit}/s · "
            f"{format_duration(left)} left")
        self.summary_view.setPlainText(self.summary.text())
        self.progress_changed.emit(self.summary)

    def _on_finished(self, job: Job) -> None:
        if job.state == FAILED:
            self.summary.error = job.error
        elif job.state != DONE:
            self.summary.cancelled = True
        self.status_label.setText(self.summary.headline())
        self.progress_bar.setRange(0, max(self.summary.total, 1))
        self.progress_bar.setValue(self.summary.done)
        self.summary_view.setPlainText(self.summary.text())
        self._on_running_changed(False)
        self.run_finished.emit(self.summary)

    def clear_result(self) -> None:
        """Forget the last run's result on screen (the dialog shown again for a new run)."""
        if self.job is not None and not self.job.finished:
            return
        self.summary, self._rate = BatchSummary(), RateEstimator()
        self.status_label.setText("")
        self.summary_view.setPlainText("")
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)

    def _show_error(self, message: str) -> None:
        self.status_label.setText(f"Failed: {message}")
        self.summary_view.setPlainText(message)

    def _on_running_changed(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for w in (self.folder_edit, self.model_edit, self.output_edit, self.mode_combo,
                  self.overwrite_check):
            w.setEnabled(not running)
        if not running:
            self._show_mode()

    def _on_model_changed(self, _model: Any) -> None:
        if not self.model_edit.text().strip():  # the run would use the model predicting now
            self._show_mode()
