"""Small icons drawn in code: one per image state (no image files to ship)."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

STATE_COLORS = {
    "unlabeled": QColor(150, 150, 150),
    "predicted": QColor(70, 130, 230),
    "corrected": QColor(240, 150, 30),
    "verified": QColor(50, 180, 80),
    "invalid": QColor(210, 40, 40),
}


@cache
def state_icon(state: str) -> QIcon:
    """A 16 px circle: hollow grey (unlabeled), blue (predicted), orange (corrected), green
    with a check mark (verified) or red with a cross (invalid: the mask cannot be used)."""
    size = 16
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = STATE_COLORS.get(state, QColor(200, 0, 200))
    painter.setPen(QPen(color, 2))
    painter.setBrush(Qt.BrushStyle.NoBrush if state == "unlabeled" else color)
    painter.drawEllipse(QRectF(2, 2, size - 4, size - 4))
    if state == "verified":
        check = QPainterPath(QPointF(4.5, 8.5))
        check.lineTo(QPointF(7, 11))
        check.lineTo(QPointF(11.5, 5))
        painter.setPen(QPen(QColor("white"), 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(check)
    elif state == "invalid":
        painter.setPen(QPen(QColor("white"), 2))
        painter.drawLine(QPointF(5.5, 5.5), QPointF(10.5, 10.5))
        painter.drawLine(QPointF(10.5, 5.5), QPointF(5.5, 10.5))
    painter.end()
    return QIcon(pixmap)
