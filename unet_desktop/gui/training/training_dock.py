"""The training dock: runs a fine-tuning on the worker thread and plots it live.

Training loss per step, validation mIoU and mean Dice per epoch (with the parent model's mIoU on
the same validation images as a dashed line), images/s and time left. Cancel stops within one
step and keeps the best model so far. When the run ends the dock says whether the new model
validates better or worse than its parent and emits ``model_trained(path)``; it names any image
the run used that was undone (no longer corrected) and saved while it ran, and any whose mask
was edited and saved again after the run read it (the model learnt the mask as it was). A
learning round (``learning_controller``) writes its progress in the same status line
(:meth:`show_round`), and Cancel stops it while it runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.image_entry import LABELLED_STATES
from unet_desktop.core.folder.learning_record import MIN_VALIDATION_IMAGES
from unet_desktop.core.folder.mask_digest import stored_mask_digest
from unet_desktop.core.io.model_header import model_metadata
from unet_desktop.core.labels import STROKES_BELOW
from unet_desktop.gui.editing.image_list_model import shown_name
from unet_desktop.gui.model.batch_predict_dialog import format_duration
from unet_desktop.gui.worker import Job, Priority, Worker
from unet_desktop.ml.reports import (
    EpochReport,
    FinalReport,
    PrepareReport,
    SkippedPair,
    SplitReport,
    StepReport,
    figures_apart,
)

EMPTY_STEPS = 10  # the step axis before the first step (and the epoch axis before a run)
PLANNED_EPOCHS_SHOWN = 20  # a run planned for up to this many epochs shows them all at once
PLOT_MIN_HEIGHT = 150  # px: title, ticks and axis labels readable (the dock's minimum)
# px: ticks and axis labels still readable; with the learning curve beside the two plots the
# window still fits a 1366 px wide screen (the file list and the tool docks take ~600 px)
PLOT_MIN_WIDTH = 150
REDRAW_MS = 100  # curves are redrawn at most this often, however fast the steps come
# Plot titles are short, in TITLE_SIZE, their full wording in the plot's tooltip: pyqtgraph makes
# a title's width the plot's minimum width, and the part of a plot wider than its widget is never
# drawn (the last epochs, the end of the title). At PLOT_MIN_WIDTH a title has 95-110 px (less
# beside a labelled y axis).
TITLE_SIZE = "8pt"
# a mask file written this long before a run started may still be one written after (file
# times are coarser than the clock): only those newer are read again to see if they changed
MTIME_SLACK_S = 2.0
# the metric plot's title until the run reports its split (a task's holdout, the few-image
# recipe and unusable masks decide it, not the settings alone)
SPLIT_UNKNOWN_TITLE = "Scores"
SPLIT_UNKNOWN_TIP = ("mIoU and Dice after each epoch; the title says which images they are "
                     "measured on once the run has set its validation images apart")
NOT_VALIDATED_TITLE = "Not validated"
NOT_VALIDATED_TIP = ("mIoU and Dice after each epoch on the training images themselves: none "
                     "are held out, so the figures are not validated (a model scores well on "
                     "what it trained on)")
LOSS_TIP = "Training loss after each step (lower is better)"
# the result line once a learning round speaks in the status line above it
LAST_FINE_TUNE = "Last fine-tune: "


def verdict(final: Any) -> str:
    """One sentence on the finished run (Qt-free, from a ``FinalReport``)."""
    if final.model_path is None:
        return "No model was saved (stopped before the first validation)."
    new = final.metrics.get("miou")
    held_out = getattr(final, "val_images", 0)
    labelled = getattr(final, "val_labelled", 1.0)
    # strokes: the figure counts only the painted pixels, which the user chose
    strokes = f"the strokes ({labelled:.1%} of the pixels) of " if labelled < STROKES_BELOW else ""
    if not held_out:  # nothing validated on: the figures are on the training images
        return _stopped(final, [
            f"Saved {final.model_path.name} (epoch {final.best_epoch}). Not validated: "
            + _why_not_validated(getattr(final, "held_back", 0))
            + ", so no figure says how it does on new images"
            + (f" (mIoU {new:.3f} on {strokes}its own training images)."
               if new is not None else ".")])
    parent = (final.parent_metrics or {}).get("miou")
    shown_new, shown_parent = figures_apart(new, parent)
    parts = [f"Saved {final.model_path.name} (best epoch {final.best_epoch}"
             + (f", validation mIoU {shown_new} on {strokes}{held_out} held-out image(s))."
                if new is not None else ").")]
    if final.better_than_parent is True:
        parts.append(f"It validates better than its parent ({shown_parent}) on images neither "
                     "trained on.")
    elif final.better_than_parent is False:
        worse = "worse than" if new is not None and new < parent else "no better than"
        parts.append(f"It validates {worse} its parent ({shown_parent}) on the same images, "
                     "which neither trained on: keep using the parent, or roll back after "
                     "trying it.")
    elif getattr(final, "parent_trained_on_val", False):
        parts.append("Not compared with its parent: the parent, or a model it was "
                     "fine-tuned from, trained on some of these validation images.")
    return _stopped(final, parts)


def split_title(val_images: int) -> tuple[str, str]:
    """The metric plot's title and tooltip for a run that validates on ``val_images``
    held-out images."""
    if not val_images:
        return NOT_VALIDATED_TITLE, NOT_VALIDATED_TIP
    tip = (f"mIoU and Dice after each epoch on {val_images} held-out image(s), which the run "
           "does not train on")
    return f"Validated on {val_images}", tip


def titled_plot(title: str, tip: str) -> pg.PlotWidget:
    """A plot for the dock with a short ``title`` and its full wording in ``tip``."""
    plot = pg.PlotWidget()
    set_title(plot, title, tip)
    return plot


def set_title(plot: pg.PlotWidget, title: str, tip: str) -> None:
    """A short title that fits the plot's minimum width (see TITLE_SIZE); ``tip`` says it in
    full."""
    plot.setTitle(title, size=TITLE_SIZE)
    plot.setToolTip(tip)


def _why_not_validated(held_back: int) -> str:
    """Why a run has no validation figure: nothing held out, or too few images held out."""
    if held_back:  # the folder's validation images: left out of training, too few to judge
        return (f"{held_back} image(s) held out, too few to validate "
                f"({MIN_VALIDATION_IMAGES} needed)")
    return "every image was used for training and none held out"


def _stopped(final: Any, parts: list[str]) -> str:
    """``parts`` after a first sentence on how the run ended."""
    if final.stopped == "cancelled":
        parts.insert(0, "Cancelled; the best model so far is kept.")
    elif final.stopped == "time_budget":
        parts.insert(0, "Time limit reached.")
    elif final.stopped == "step_limit":
        parts.insert(0, "Step limit reached.")
    elif final.stopped == "early_stopping":
        parts.insert(0, "Stopped early: validation stopped improving.")
    return " ".join(parts)


def undone_during_run(summary: dict, is_labelled: Callable[[str], bool]) -> str:
    """What the verdict adds when images the run trained or validated on (its model's data
    ``summary``) are no longer corrected (``is_labelled``): undone and saved while it ran."""
    def undone(field: str) -> list[str]:
        keys = summary.get(field)
        return [k for k in keys if not is_labelled(k)] if isinstance(keys, list) else []

    trained, judged = undone("train_keys"), undone("val_keys")
    said = []
    if trained:
        said.append(f"{_were_undone(trained)}, but the new model learnt from {_it(trained)} "
                    f"(Model > Versions... puts another into use; a new fine-tune leaves "
                    f"{_it(trained)} out).")
    if judged:
        said.append(f"{_were_undone(judged)}, but its validation figures still count "
                    f"{_it(judged)}.")
    return " ".join(said)


def edited_during_run(summary: dict, digest_now: Callable[[str], str | None]) -> str:
    """What the verdict adds when images the run trained or validated on (its model's data
    ``summary``) now have another mask than the one it read (``summary["mask_sha1"]``; the
    mask's digest now by ``digest_now``, None: not compared): edited and saved again after
    the run read them, so the model learnt (or was judged on) the mask as it was."""
    read = summary.get("mask_sha1")
    read = read if isinstance(read, dict) else {}

    def edited(field: str) -> list[str]:
        keys = summary.get(field)
        if not isinstance(keys, list):
            return []
        return [k for k in keys if isinstance(read.get(k), str)
                and digest_now(k) not in (None, read[k])]

    trained, judged = edited("train_keys"), edited("val_keys")
    said = []
    if trained:
        said.append(f"{_were_edited(trained)}: the new model learnt {_it(trained)} as "
                    f"{_was(trained)} before {_that_edit(trained)} (a new fine-tune learns "
                    f"{_it(trained)} as saved now).")
    if judged:
        said.append(f"{_were_edited(judged)}: its validation figures judge {_it(judged)} as "
                    f"{_was(judged)} before {_that_edit(judged)}.")
    return " ".join(said)


def _were_edited(keys: list[str]) -> str:
    names = ", ".join(shown_name(k) for k in keys)
    was = "was" if len(keys) == 1 else "were"
    return f"{names} {was} edited and saved again after the run read {_it(keys)}"


def _was(keys: list[str]) -> str:
    return "it was" if len(keys) == 1 else "they were"


def _that_edit(keys: list[str]) -> str:
    return "that edit" if len(keys) == 1 else "those edits"


def mask_digest_now(ws: Any, key: str, since: float) -> str | None:
    """The digest of ``key``'s mask as stored now, as a run records the one it reads
    (``ml.training.dataset.load_workspace_sample``: the file's bytes, a slice's values); None
    when the image is gone or no longer corrected (said apart), or its mask file was not
    written after ``since`` (a time.time(); the run read what is there)."""
    if key not in ws or ws[key].state not in LABELLED_STATES:
        return None
    entry = ws[key]
    try:
        if entry.mask_path.stat().st_mtime < since - MTIME_SLACK_S:
            return None
    except OSError:
        return None
    try:
        return stored_mask_digest(ws, key)
    except FileError:  # unreadable now: nothing to compare
        return None


def _were_undone(keys: list[str]) -> str:
    was = "was" if len(keys) == 1 else "were"
    names = ", ".join(shown_name(k) for k in keys)  # a Qt label drops bytes that are not UTF-8
    return f"{names} {was} undone (no longer corrected) and saved during the run"


def _it(keys: list[str]) -> str:
    return "it" if len(keys) == 1 else "them"


def training_job(workspace: Any, config: Any, notify):
    """The worker-thread job: :func:`unet_desktop.ml.training.finetune_job.run_finetune`."""

    def run(token):
        from unet_desktop.ml.training.finetune_job import run_finetune

        yield from run_finetune(workspace, config, token, notify)

    return run


class TrainingDock(QDockWidget):
    """Live curves, rate, time left and Cancel for one training run at a time."""

    training_started = Signal()
    # shown for a run or the learning loop's curve: the window gives it its height
    # (MainWindow.reveal_training_dock)
    reveal_requested = Signal()
    model_trained = Signal(str)  # path of the new model file (hot-swap it in)
    training_finished = Signal(object)  # the FinalReport (None if the run failed)
    training_failed = Signal(str)
    message = Signal(str)  # out-of-memory fallbacks and the like, for the status bar

    def __init__(self, worker: Worker, parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        self.setObjectName("training_dock")
        self.worker = worker
        self.job: Job | None = None
        self.final: Any = None
        self._workspace: Any = None  # the folder the run trains on
        self._started = 0.0  # time.time() when the run started (before it read any mask)
        self._result = ""  # the last fine-tune's outcome (the result line)
        self._cancel_round: Callable[[], None] | None = None  # while a learning round runs
        self.skipped: list[str] = []  # "<file>: <reason>" of pairs the run left out
        self._val_images: int | None = None  # held-out images, from the run's SplitReport
        self._planned_epochs = EMPTY_STEPS  # the epoch axis spans up to PLANNED_EPOCHS_SHOWN of them
        self._steps: list[float] = []
        self._losses: list[float] = []
        self._epochs: list[float] = []
        self._miou: list[float] = []
        self._mdice: list[float] = []
        self._build()
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self._redraw)
        self._show_running(False)
        self._redraw()  # whole steps and epochs on the axes before any run
        self.dockLocationChanged.connect(self._on_location_changed)

    def _build(self) -> None:
        body = QWidget()
        layout = QVBoxLayout(body)
        self.loss_plot = titled_plot("Training loss", LOSS_TIP)
        self.loss_plot.setLabel("bottom", "step")
        self.loss_plot.setLimits(xMin=0, minXRange=EMPTY_STEPS)  # whole steps on the axis
        self.loss_curve = self.loss_plot.plot([], [], pen=pg.mkPen("#4c9be8", width=1))
        self.metric_plot = titled_plot(SPLIT_UNKNOWN_TITLE, SPLIT_UNKNOWN_TIP)
        self.metric_plot.setLabel("bottom", "epoch")
        self.legend = self.metric_plot.addLegend(offset=(-5, -5))  # bottom right: curves rise
        self.metric_plot.setYRange(0.0, 1.0)
        self.metric_plot.setLimits(xMin=0)
        self.miou_curve = self.metric_plot.plot([], [], pen=pg.mkPen("#2ca02c", width=2),
                                                symbol="o", symbolSize=5, name="mIoU")
        self.dice_curve = self.metric_plot.plot([], [], pen=pg.mkPen("#ff7f0e", width=2),
                                                symbol="o", symbolSize=5, name="Dice")
        self.parent_line = pg.InfiniteLine(
            angle=0, movable=False, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine),
            label="parent mIoU",  # its left end 2% into the plot: never cut by the axis
            labelOpts={"position": 0.02, "anchors": [(0, 1), (0, 1)]})
        self.parent_line.setVisible(False)
        self.metric_plot.addItem(self.parent_line)
        self.status_label = QLabel("No training yet.")
        self.status_label.setWordWrap(True)  # a round's long sentence must not widen the window
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel Training")
        self.cancel_button.clicked.connect(self.cancel)
        self.plots = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        for w in (self.loss_plot, self.metric_plot):
            w.setMinimumSize(PLOT_MIN_WIDTH, PLOT_MIN_HEIGHT)
            self.plots.addWidget(w, 1)
        layout.addLayout(self.plots, 1)
        footer = QHBoxLayout()
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.cancel_button)
        layout.addLayout(footer)
        layout.addWidget(self.result_label)
        self.setWidget(body)  # its minimum height keeps every plot at PLOT_MIN_HEIGHT

    def add_plot(self, widget: QWidget, stretch: int = 1) -> None:
        """Another plot beside the two (the learning loop's curve), laid out with them."""
        self.plots.addWidget(widget, stretch)

    def _on_location_changed(self, area: Qt.DockWidgetArea) -> None:
        """Plots side by side under or over the canvas, stacked beside it."""
        wide = area in (Qt.DockWidgetArea.TopDockWidgetArea,
                        Qt.DockWidgetArea.BottomDockWidgetArea)
        self.plots.setDirection(QBoxLayout.Direction.LeftToRight if wide
                                else QBoxLayout.Direction.TopToBottom)

    # --- running --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.finished

    def reveal(self) -> None:
        """Show the dock (its curves, a run's progress) at the height the window gives it."""
        self.reveal_requested.emit()

    def show_round(self, status: str, cancel: Callable[[], None] | None = None) -> None:
        """A learning round's ``status`` in the dock's status line; Cancel calls ``cancel``
        while it is given (the round runs). The dock's own fine-tune keeps the line while it
        runs."""
        if self.running:
            return
        self._cancel_round = cancel
        self.status_label.setText(status)
        if self._result:  # it read as the round's outcome ('Promoted' above 'No model saved')
            self.result_label.setText(f"{LAST_FINE_TUNE}{self._result[:1].lower()}"
                                      f"{self._result[1:]}")
        self.cancel_button.setEnabled(cancel is not None)

    def start(self, workspace: Any, config: Any) -> Job | None:
        """Train on ``workspace``'s corrected/verified images; None if a run is going."""
        if self.running:
            return None
        self.final = None
        self._workspace = workspace
        self._started = time.time()
        self.skipped = []
        self._val_images = None
        self._planned_epochs = max(1, int(getattr(config, "epochs", 1) or 1))
        for series in (self._steps, self._losses, self._epochs, self._miou, self._mdice):
            series.clear()
        self.parent_line.setVisible(False)
        nothing_held_out = getattr(config, "holdout", None) is None \
            and getattr(config, "val_fraction", None) == 0  # None: the recipe decides
        set_title(self.metric_plot, *(split_title(0) if nothing_held_out
                                      else (SPLIT_UNKNOWN_TITLE, SPLIT_UNKNOWN_TIP)))
        self._show_result("")
        self.status_label.setText("Preparing the training images...")
        self._redraw()
        self._cancel_round = None  # a fine-tune cancels a running round (the folder's owner)
        self.job = self.worker.submit(
            training_job(workspace, config, self.message.emit), Priority.BACKGROUND,
            name="fine-tune", on_progress=self._on_report, on_error=self._on_failed,
            on_finished=self._on_finished)
        self._show_running(True)
        self.reveal()
        self.training_started.emit()
        return self.job

    def cancel(self) -> None:
        """Stop within one step; the best model so far stays saved (a learning round keeps
        nothing)."""
        if self.running:
            self.job.cancel()
        elif self._cancel_round is not None:
            self._cancel_round()
        else:
            return
        self.status_label.setText("Cancelling...")
        self.cancel_button.setEnabled(False)

    def _on_report(self, report: Any) -> None:
        if isinstance(report, SkippedPair):  # reported once; the run goes on without it
            self.skipped.append(report.message)
            self.message.emit(f"Training skips {report.key}: {report.message}")
        elif isinstance(report, PrepareReport):
            self.status_label.setText(f"Preparing images {report.done} / {report.total}")
        elif isinstance(report, SplitReport):
            self._val_images = report.val_images
            set_title(self.metric_plot, *split_title(report.val_images))
        elif isinstance(report, StepReport):
            self._steps.append(report.step)
            self._losses.append(report.loss)
            self.status_label.setText(
                f"Epoch {report.epoch} · step {report.step} · loss {report.loss:.4f} · "
                f"{report.images_per_s:.1f} images/s" + self._time_left_text())
            self._schedule_redraw()
        elif isinstance(report, EpochReport):
            self._epochs.append(report.epoch)
            self._miou.append(_number(report.val.get("miou")))
            self._mdice.append(_number(report.val.get("mdice")))
            self._time_left = report.time_left_s
            of = f" / {report.epochs}" if report.epochs else ""
            self.status_label.setText(
                f"Epoch {report.epoch}{of} · {self._miou_label()} "
                f"{_number(report.val.get('miou')):.3f}" + self._time_left_text())
            self._schedule_redraw()
        elif isinstance(report, FinalReport):
            self.final = report
            parent = (report.parent_metrics or {}).get("miou")
            if parent is not None and not report.parent_trained_on_val:  # else no comparison
                self.parent_line.setValue(parent)
                self.parent_line.setVisible(True)

    _time_left: float | None = None

    def _miou_label(self) -> str:
        """What the epoch's mIoU is measured on: held-out images, or the training images."""
        if self._val_images is None:  # the split not reported (yet)
            return "mIoU"
        return "validation mIoU" if self._val_images else "mIoU on training images"

    def _time_left_text(self) -> str:
        left = self._time_left
        return f" · {format_duration(left)} left" if left is not None else ""

    def _on_failed(self, message: str) -> None:
        self._show_result(f"Training failed: {message}")
        self.training_failed.emit(message)

    def _on_finished(self, job: Job) -> None:
        self._redraw()
        self._show_running(False)
        self._time_left = None
        final = self.final
        if final is not None:
            ended = "Cancelled" if final.stopped == "cancelled" else "Finished"
            self.status_label.setText(f"{ended} after {final.epochs_run} epoch(s).")
            # the image or the mask: each reason names its file and what is wrong with it
            skipped = (f" Left out {len(self.skipped)} labelled image(s) it could not use: "
                       + "; ".join(self.skipped[:3])) if self.skipped else ""
            self._show_result(" ".join(filter(None, (verdict(final) + skipped,
                                                     *self._changed_during_run(final)))))
        elif job.state != "failed":
            self.status_label.setText("Cancelled before training started.")
        self.training_finished.emit(final)
        if final is not None and final.model_path is not None:
            self.model_trained.emit(str(final.model_path))

    def _changed_during_run(self, final: Any) -> tuple[str, str]:
        """Names the images the run used that were undone and saved while it ran (the saved
        model learnt from them), and those edited and saved again after it read them (it
        learnt their masks as they were): the user decides whether to keep it."""
        ws = self._workspace
        if final.model_path is None or ws is None:
            return "", ""
        summary = (model_metadata(final.model_path) or {}).get("data_summary") or {}
        started = self._started
        return (undone_during_run(summary, lambda k: k not in ws
                                  or ws[k].state in LABELLED_STATES),
                edited_during_run(summary, lambda k: mask_digest_now(ws, k, started)))

    def _show_result(self, text: str) -> None:
        """The fine-tune's outcome below the status line (a round's status above it later names
        it as the last fine-tune's)."""
        self._result = text
        self.result_label.setText(text)

    def add_to_result(self, text: str) -> None:
        """What recording the fine-tune's model found after its verdict (a file pruning could
        not delete), said with it."""
        self._show_result(" ".join(filter(None, (self._result, text))))

    # --- drawing --------------------------------------------------------------------------------
    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _redraw(self) -> None:
        self.loss_curve.setData(self._steps, self._losses)
        self.miou_curve.setData(self._epochs, self._miou)
        self.dice_curve.setData(self._epochs, self._mdice)
        if self._steps:
            self.loss_plot.enableAutoRange(x=True)
        else:  # nothing to fit yet: steps from 0, not a range around nothing
            self.loss_plot.setXRange(0, EMPTY_STEPS, padding=0)
        scores = [v for v in self._miou[-3:] + self._mdice[-3:] if not math.isnan(v)]
        low = bool(scores) and max(scores) < 0.5  # curves low: the legend goes to the top
        self.legend.anchor((1, 0) if low else (1, 1), (1, 0) if low else (1, 1),
                           offset=(-5, 5) if low else (-5, -5))
        # the epochs run; a short plan is shown whole, a long one (1000) does not squash the data
        last = max([min(self._planned_epochs, PLANNED_EPOCHS_SHOWN), *self._epochs])
        self.metric_plot.setXRange(1, max(2, last), padding=0.02)

    def _show_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)


def _number(value: Any) -> float:
    return float(value) if value is not None else math.nan
