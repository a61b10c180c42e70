"""Model > Model Card: what a model file says about itself (name, version, lineage, scheme,
training scale, validation metrics, the data it was trained on), and for a version of the open
folder's task that the learning loop's gate judged, the gate's verdict (it lives in the task:
a round trains without validating, the gate judges the file afterwards on the validation set).

The dialog fits the screen and scrolls: the description as a form, the validation metrics as a
table (one row per class for per-class metrics), the training history as a small plot, and the
data summary with long lists shortened (the full values stay in the file's metadata).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.labels import STROKES_BELOW

LIST_PREVIEW = 3  # items of a long list shown before "... (N in all)"
SCREEN_FRACTION = 0.85  # the dialog never grows past this share of the screen
HISTORY_KEYS = ("train_loss", "val_loss", "miou")  # curves of the history plot, when present
PARENT_SAW = "trained_on_these_images"  # metrics["parent"]: the parent learnt from them
SCALE_TEXT = {"fit": "whole image, resized to the training size",
              "native": "native pixels (predicts in tiles)"}  # core.io.model_header.SCALES


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        if len(value) > LIST_PREVIEW * 2:
            return f"{len(value)} entries ({', '.join(map(str, list(value)[:LIST_PREVIEW]))}, ...)"
        return ", ".join(f"{k}: {_format_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        if len(value) > LIST_PREVIEW * 2:
            shown = ", ".join(_format_value(v) for v in value[:LIST_PREVIEW])
            return f"{shown}, ... ({len(value)} in all)"
        return ", ".join(_format_value(v) for v in value) or "-"
    return str(value)


def architecture_text(arch: dict) -> str:
    """``unet (depth 4, base 16, transpose)`` / ``resnet_unet (resnet34)``."""
    name = arch.get("name", "?")
    details = [f"{k} {v}" for k, v in arch.items()
               if k not in ("name", "in_channels", "num_classes")]
    channels = f"{arch.get('in_channels', '?')} -> {arch.get('num_classes', '?')} channels"
    return f"{name} ({', '.join([*details, channels])})"


def parent_text(meta: Any) -> str:
    """The parent version, or what a model without one started from (Model > Versions says
    "ImageNet encoder")."""
    if meta.parent_version:
        return meta.parent_version
    arch = meta.arch
    if str(arch.get("weights_origin", "")).startswith("ImageNet"):  # loaded, never optional
        return "- (started from the ImageNet-pretrained encoder)"
    if arch.get("encoder_weights") == "imagenet":  # a ResNet's: only if in the torch hub cache
        return "- (ImageNet encoder weights if they were cached, else a random encoder)"
    return "- (trained from scratch)"


def metrics_heading(summary: dict | None, judged: bool = False) -> str:
    """What the metrics were measured on, from the model's data summary (Qt-free); ``judged``:
    the gate's verdict is shown apart (:func:`verdict_rows`)."""
    summary = summary or {}
    return _measured_on(summary, judged) + strokes_note(summary.get("val_labelled"))


def _measured_on(summary: dict, judged: bool) -> str:
    if summary.get("val_on_train") is True and judged:  # validated by the gate, not here
        return "Training metrics (on its own training images)"
    if summary.get("val_on_train") is True:  # nothing held out
        return "Metrics on its own training images (not validated)"
    if summary.get("validated") is False:  # held out, but fewer than a judgement needs
        return f"Metrics on {summary.get('val_images', 'too few')} held-out image(s) " \
            "(too few to validate)"
    return "Validation metrics"


def strokes_note(labelled: Any) -> str:
    """", on the strokes only (X% of the pixels painted)" when the masks measured on were
    strokes (below ``STROKES_BELOW`` labelled, as Versions and the CLI say), else ""."""
    if not isinstance(labelled, (int, float)) or isinstance(labelled, bool) \
            or labelled >= STROKES_BELOW:
        return ""
    return f", on the strokes only ({labelled:.1%} of the pixels painted)"


def model_card_rows(meta: Any, path: Path | None = None) -> list[tuple[str, str]]:
    """(field, text) rows describing a ``ModelMeta``, metrics apart (Qt-free)."""
    scheme = meta.scheme
    norm = meta.normalization
    normalisation = (f"mean {_format_value(norm.get('mean', []))}; "
                     f"std {_format_value(norm.get('std', []))}")
    classes = ", ".join(f"{c.value} {c.name}" for c in scheme.classes)
    rows = [
        ("Name", meta.name or (path.stem if path else "-")),
        ("Version", meta.version),
        ("Parent version", parent_text(meta)),
        ("File", str(path) if path else "- (not saved)"),
        ("Created", meta.created or "-"),
        ("Architecture", architecture_text(meta.arch)),
        ("Label scheme", f"{scheme.kind}: {classes}"
         + (f"; ignore {scheme.ignore_value}" if scheme.ignore_value is not None else "")),
        ("Training size", f"{meta.train_size} px"),
        ("Scale", SCALE_TEXT[meta.scale]),
        ("Normalisation", normalisation),
        ("Input rule", f"{meta.rule.kind}: {meta.rule.describe()}"),  # how it reads the values
    ]
    if meta.description:
        rows.append(("Description", meta.description))
    rows += [(f"Data: {k}", _format_value(v)) for k, v in (meta.data_summary or {}).items()]
    return rows


def verdict_heading(version: Any) -> str | None:
    """The heading of the gate's verdict on a task version (``core.folder.task.ModelVersion``),
    or None when the gate did not validate it (Qt-free)."""
    if version is None or not version.validated or "val_score" not in version.metrics:
        return None
    n = version.validation_images
    return ("Validation metrics: the learning loop's promotion gate, on "
            f"{n if n is not None else 'its'} validation image(s) it never trained on"
            + strokes_note(version.metrics.get("val_labelled")))


GATE_METRICS = (("val_score", "score"), ("dice", "dice"), ("miou", "miou"),
                ("parent_val_score", "score of the model in use then"),
                ("val_labelled", "share of pixels labelled"))


def verdict_rows(version: Any) -> list[tuple[str, str]]:
    """(metric, value) of the gate's verdict recorded in the task (Qt-free)."""
    metrics = version.metrics
    rows = [(label, _format_value(metrics[key])) for key, label in GATE_METRICS
            if isinstance(metrics.get(key), (int, float))]
    return rows + ([("verdict", version.note)] if version.note else [])


def metric_rows(metrics: dict | None, class_names: list[str]) -> list[tuple[str, str]]:
    """(metric, value) for the scalar metrics; the parent's as ``parent <name>``; metrics
    recorded without a value (None) are left out (Qt-free)."""
    rows = []
    for name, value in (metrics or {}).items():
        if name == "history" or value is None or _per_class(value, class_names):
            continue
        if name == "parent" and isinstance(value, dict):
            rows += parent_rows(value)
        else:
            rows.append((name, _format_value(value)))
    return rows


def parent_rows(parent: dict) -> list[tuple[str, str]]:
    """The parent's figures on the same validation images, said to be on images it trained
    on when it did (then they compare nothing: ``ml.training.learnt_images``)."""
    seen = parent.get(PARENT_SAW) is True
    where = " (on images it trained on)" if seen else ""
    return [(f"parent {k}{where}", _format_value(v)) for k, v in parent.items()
            if k != PARENT_SAW and v is not None]


def per_class_table(metrics: dict | None,
                    class_names: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """(metric names, [(class, values)]) for the metrics given per class (Qt-free)."""
    names = [k for k, v in (metrics or {}).items() if _per_class(v, class_names)]
    if not names:
        return [], []
    return names, [(c, [_format_value(metrics[n].get(c, "-")) for n in names])
                   for c in class_names]


def history_series(metrics: dict | None) -> dict[str, tuple[list[float], list[float]]]:
    """{curve: (epochs, values)} from ``metrics["history"]`` (Qt-free)."""
    history = (metrics or {}).get("history")
    if not isinstance(history, list):
        return {}
    series: dict[str, tuple[list[float], list[float]]] = {}
    for i, epoch in enumerate(h for h in history if isinstance(h, dict)):
        for key in HISTORY_KEYS:
            if isinstance(epoch.get(key), (int, float)):
                xs, ys = series.setdefault(key, ([], []))
                xs.append(float(epoch.get("epoch", i + 1)))
                ys.append(float(epoch[key]))
    return series


def _per_class(value: Any, class_names: list[str]) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= set(class_names)


def _table(headers: list[str], rows: list[list[str]]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if c:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    height = table.horizontalHeader().sizeHint().height() + 4
    height += sum(table.rowHeight(r) for r in range(len(rows)))
    table.setFixedHeight(height)
    table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return table


class ModelCardDialog(QDialog):
    """Read-only description, metrics table and history plot of a model (module docstring);
    ``version``: its entry in the open folder's task, if it has one."""

    def __init__(self, meta: Any, path: Path | None = None,
                 parent: QWidget | None = None, version: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model Card: {meta.name or meta.version}")
        self.rows = model_card_rows(meta, path)
        classes = [c.name for c in meta.scheme.classes]
        content = QWidget()
        layout = QVBoxLayout(content)
        self.value_labels: dict[str, QLabel] = {}
        layout.addLayout(self._form([r for r in self.rows if not r[0].startswith("Data: ")]))
        self.metrics_table = self.class_table = self.history_plot = self.verdict_table = None
        verdict = verdict_heading(version)
        if verdict is not None:
            layout.addWidget(QLabel(f"<b>{verdict}</b>"))
            self.verdict_table = _table(["Metric", "Value"],
                                        [list(r) for r in verdict_rows(version)])
            layout.addWidget(self.verdict_table)
        self.headings = [verdict] if verdict is not None else []
        scalars = metric_rows(meta.metrics, classes)
        if scalars:
            self.headings.append(metrics_heading(meta.data_summary, verdict is not None))
            layout.addWidget(QLabel(f"<b>{self.headings[-1]}</b>"))
            self.metrics_table = _table(["Metric", "Value"], [list(r) for r in scalars])
            layout.addWidget(self.metrics_table)
        names, per_class = per_class_table(meta.metrics, classes)
        if per_class:
            self.class_table = _table(["Class", *names], [[c, *v] for c, v in per_class])
            layout.addWidget(self.class_table)
        series = history_series(meta.metrics)
        if series:
            layout.addWidget(QLabel("<b>Training history</b> (per epoch)"))
            self.history_plot = self._history_plot(series)
            layout.addWidget(self.history_plot)
        data = [(t[len("Data: "):], v) for t, v in self.rows if t.startswith("Data: ")]
        if data:
            layout.addWidget(QLabel("<b>Training data</b>" + (
                " (as the round trained: the gate's validation is above)"
                if verdict is not None else "")))
            layout.addLayout(self._form(data, prefix="Data: "))
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        outer = QVBoxLayout(self)
        outer.addWidget(scroll, 1)
        outer.addWidget(buttons)
        self._fit_to_screen(content)

    def _form(self, rows: list[tuple[str, str]], prefix: str = "") -> QFormLayout:
        form = QFormLayout()
        for title, text in rows:
            label = QLabel(text)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{title}:", label)
            self.value_labels[prefix + title] = label
        return form

    def _history_plot(self, series: dict) -> pg.PlotWidget:
        plot = pg.PlotWidget()
        plot.setFixedHeight(180)
        plot.addLegend(offset=(-10, 10))
        plot.setLabel("bottom", "epoch")
        plot.showGrid(x=True, y=True, alpha=0.3)
        colours = {"train_loss": "#1f77b4", "val_loss": "#ff7f0e", "miou": "#2ca02c"}
        for key, (xs, ys) in series.items():
            plot.plot(xs, ys, pen=pg.mkPen(colours.get(key, "#888"), width=2), name=key)
        return plot

    def _fit_to_screen(self, content: QWidget) -> None:
        screen = self.screen().availableGeometry()
        width = min(640, int(screen.width() * SCREEN_FRACTION))
        height = min(content.sizeHint().height() + 80, int(screen.height() * SCREEN_FRACTION))
        self.resize(width, height)
