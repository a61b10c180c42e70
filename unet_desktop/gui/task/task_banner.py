"""A line above the canvas, where the prediction is shown, saying why the model in use cannot
label this folder's masks (its classes are not the task's). Hidden when there is nothing to say.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class TaskBanner(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("task_banner")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel#task_banner { background: #fff3c4; color: #3d2f00; "
                           "border-bottom: 1px solid #d9b84a; padding: 6px 10px; }")
        self.hide()

    def show_text(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))


def with_banner(banner: TaskBanner, content: QWidget) -> QWidget:
    """``content`` (the canvas) with the banner above it, as one widget."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addWidget(banner)
    layout.addWidget(content, 1)
    return box
