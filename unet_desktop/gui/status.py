"""Permanent status-bar widget: pixel under the cursor, its label, and the zoom."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget


class PointerStatus(QWidget):
    """Shows ``x 12  y 34 | 1 foreground | 150%``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.position_label = QLabel()
        self.value_label = QLabel()
        self.zoom_label = QLabel()
        self.position_label.setMinimumWidth(110)
        self.value_label.setMinimumWidth(140)
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        for label in (self.position_label, self.value_label, self.zoom_label):
            layout.addWidget(label)
        self.setLayout(layout)

    def show_pointer(self, col: int, row: int, value: int | None, name: str | None) -> None:
        self.position_label.setText(f"x {col}  y {row}")
        if value is None:
            self.value_label.setText("")
        else:
            self.value_label.setText(f"{value} {name}" if name else str(value))

    def clear_pointer(self) -> None:
        self.position_label.setText("")
        self.value_label.setText("")

    def show_zoom(self, zoom: float) -> None:
        self.zoom_label.setText(f"{zoom * 100:.0f}%")
