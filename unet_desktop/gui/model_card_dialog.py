"""Model > Model Card: what a model file says about itself (name, version, lineage, scheme,
training scale, validation metrics, the data it was trained on)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


def _format_value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_format_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_value(v) for v in value) or "-"
    return str(value)


def architecture_text(arch: dict) -> str:
    """``unet (depth 4, base 16, transpose)`` / ``resnet_unet (resnet34)``."""
    name = arch.get("name", "?")
    details = [f"{k} {v}" for k, v in arch.items()
               if k not in ("name", "in_channels", "num_classes")]
    channels = f"{arch.get('in_channels', '?')} -> {arch.get('num_classes', '?')} channels"
    return f"{name} ({', '.join([*details, channels])})"


def model_card_rows(meta: Any, path: Path | None = None) -> list[tuple[str, str]]:
    """(field, text) rows describing a ``ModelMeta`` (Qt-free)."""
    scheme = meta.scheme
    norm = meta.normalization
    normalisation = (f"mean {_format_value(norm.get('mean', []))}; "
                     f"std {_format_value(norm.get('std', []))}")
    classes = ", ".join(f"{c.value} {c.name}" for c in scheme.classes)
    rows = [
        ("Name", meta.name or (path.stem if path else "-")),
        ("Version", meta.version),
        ("Parent version", meta.parent_version or "- (trained from scratch)"),
        ("File", str(path) if path else "- (not saved)"),
        ("Created", meta.created or "-"),
        ("Architecture", architecture_text(meta.arch)),
        ("Label scheme", f"{scheme.kind}: {classes}"
         + (f"; ignore {scheme.ignore_value}" if scheme.ignore_value is not None else "")),
        ("Training size", f"{meta.train_size} px"),
        ("Normalisation", normalisation),
    ]
    if meta.description:
        rows.append(("Description", meta.description))
    rows += [(f"Metric: {k}", _format_value(v)) for k, v in (meta.metrics or {}).items()]
    rows += [(f"Data: {k}", _format_value(v)) for k, v in (meta.data_summary or {}).items()]
    return rows


class ModelCardDialog(QDialog):
    """Read-only form of :func:`model_card_rows`; text can be selected and copied."""

    def __init__(self, meta: Any, path: Path | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model Card: {meta.name or meta.version}")
        self.rows = model_card_rows(meta, path)
        form = QFormLayout()
        self.value_labels: dict[str, QLabel] = {}
        for title, text in self.rows:
            label = QLabel(text)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{title}:", label)
            self.value_labels[title] = label
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
