"""A panel's body in a vertical scroll area: a dock shown whole wherever the window has the
room and scrolled where it has not (a 768 px screen, or the tools, prediction and contrast docks
in one column); a text column beside a plot scrolled rather than cut off."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class _WholeHintScroll(QScrollArea):
    """Asks for its whole content's height (QScrollArea caps its hint), so that the dock gets
    all of it when there is room."""

    def sizeHint(self) -> QSize:
        inner = self.widget().sizeHint() if self.widget() is not None else QSize(0, 0)
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width(), inner.height())


def scrolled(body: QWidget, whole_height: bool = True) -> QScrollArea:
    """``body`` in a vertical scroll area that is never narrower than ``body`` needs; with
    ``whole_height`` it asks for all of ``body``'s height, else for Qt's capped hint (a column
    beside a plot, which must not make its dock taller)."""
    scroll = _WholeHintScroll() if whole_height else QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(body)
    scroll.setMinimumWidth(body.minimumSizeHint().width()
                           + scroll.verticalScrollBar().sizeHint().width())
    return scroll
