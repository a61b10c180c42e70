"""Draws an image's uncertainty at the right of its row in the file list (a small column)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from unet_desktop.gui.editing.uncertainty_layer import heat_lut

_LUT = heat_lut()


def uncertainty_text(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


class UncertaintyDelegate(QStyledItemDelegate):
    """The usual row (icon, name), then the uncertainty score over a bar of its heat colour."""

    def __init__(self, role: int, parent=None) -> None:
        super().__init__(parent)
        self.role = role

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(self.role)
        if value is None:
            super().paint(painter, option, index)
            return
        column = option.fontMetrics.horizontalAdvance("0.000") + 6
        full = QStyleOptionViewItem(option)
        self.initStyleOption(full, index)
        full.text = ""
        full.icon = QIcon()
        style = option.widget.style() if option.widget is not None else None
        if style is not None:  # the row's background and selection across the whole width
            style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, full, painter,
                                option.widget)
        name = QStyleOptionViewItem(option)
        name.rect = option.rect.adjusted(0, 0, -column, 0)
        super().paint(painter, name, index)

        area = QRect(option.rect.right() - column, option.rect.top(), column, option.rect.height())
        r, g, b, _ = (int(c) for c in _LUT[min(255, max(0, round(float(value) * 255)))])
        bar = QRect(area.left() + 2, area.bottom() - 3, max(1, round((column - 6) * value)), 2)
        painter.save()
        painter.fillRect(bar, QColor(r, g, b))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        color = QColor(option.palette.color(role))
        color.setAlpha(200)
        painter.setPen(color)
        painter.drawText(area.adjusted(0, 0, -3, -2),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         uncertainty_text(float(value)))
        painter.restore()
