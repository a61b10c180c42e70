"""Dock with the tools, the brush size, the classes, the mask display and clean-up operations.

It mirrors the :class:`ToolController` (the truth) and blocks its own signals while syncing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.core.editing.brush import MAX_BRUSH, MIN_BRUSH
from unet_desktop.core.labels import LabelScheme
from unet_desktop.core.smart.magic_wand import MAX_TOLERANCE
from unet_desktop.gui.editing.dock_scroll import scrolled


def _swatch(color: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(*color))
    return QIcon(pixmap)


class ToolDock(QDockWidget):
    """Tool buttons (from the window's actions), size, classes, display and clean-up."""

    size_changed = Signal(int)
    tolerance_changed = Signal(int)
    value_changed = Signal(int)
    opacity_changed = Signal(float)
    mask_visible_changed = Signal(bool)
    outline_changed = Signal(bool)
    band_requested = Signal(int)
    fill_holes_requested = Signal()
    remove_islands_requested = Signal(int)

    def __init__(self, tool_actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__("Tools", parent)
        self.setObjectName("tool_dock")

        tools = QGridLayout()
        for i, action in enumerate(tool_actions):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            tools.addWidget(button, i // 2, i % 2)
        self.size_spin = QSpinBox()
        self.size_spin.setRange(MIN_BRUSH, MAX_BRUSH)
        self.size_spin.setSuffix(" px")
        self.size_spin.setToolTip("Brush, eraser and box-refining stroke diameter ([ and ] change it)")
        size_row = QHBoxLayout()
        size_row.addWidget(self.size_spin)
        tools.addLayout(size_row, (len(tool_actions) + 1) // 2, 0, 1, 2)
        self.tolerance_slider = QSlider(Qt.Orientation.Horizontal)
        self.tolerance_slider.setRange(0, MAX_TOLERANCE)
        self.tolerance_slider.setToolTip("Magic wand tolerance: how far a colour may differ from "
                                         "the clicked one (the last click follows the slider; "
                                         "dragging sideways after a click changes it too)")
        self.tolerance_label = QLabel()
        tolerance_row = QHBoxLayout()
        tolerance_row.addWidget(QLabel("Tolerance"))
        tolerance_row.addWidget(self.tolerance_slider, 1)
        tolerance_row.addWidget(self.tolerance_label)
        tools.addLayout(tolerance_row, (len(tool_actions) + 1) // 2 + 1, 0, 1, 2)
        tool_box = QGroupBox("Tool")
        tool_box.setLayout(tools)

        self.class_list = QListWidget()
        self.class_list.setToolTip("Class to paint (number keys 1-9 pick one)")
        class_layout = QVBoxLayout()
        class_layout.addWidget(self.class_list)
        class_box = QGroupBox("Class")
        class_box.setLayout(class_layout)

        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.show_mask_check = QCheckBox("Show mask")
        self.outline_check = QCheckBox("Outline only")
        view_layout = QFormLayout()
        view_layout.addRow("Opacity", self.opacity_slider)
        view_layout.addRow(self.show_mask_check)
        view_layout.addRow(self.outline_check)
        view_box = QGroupBox("Mask display")
        view_box.setLayout(view_layout)

        self.band_spin = QSpinBox()
        self.band_spin.setRange(1, 100)
        self.band_spin.setSuffix(" px")
        self.band_button = QPushButton("Make trimap band")
        self.band_button.setToolTip("Rebuild the border class as a band of N px around the object")
        self.holes_button = QPushButton("Fill holes")
        self.holes_button.setToolTip("Fill regions enclosed by the current class with it")
        self.island_spin = QSpinBox()
        self.island_spin.setRange(2, 1_000_000)
        self.island_spin.setSuffix(" px")
        self.islands_button = QPushButton("Remove islands")
        self.islands_button.setToolTip("Remove regions smaller than N px (they take the "
                                       "value around them)")
        clean = QGridLayout()
        clean.addWidget(self.band_spin, 0, 0)
        clean.addWidget(self.band_button, 0, 1)
        clean.addWidget(self.holes_button, 1, 0, 1, 2)
        clean.addWidget(self.island_spin, 2, 0)
        clean.addWidget(self.islands_button, 2, 1)
        self.cleanup_box = QGroupBox("Clean up")
        self.cleanup_box.setLayout(clean)

        layout = QVBoxLayout()
        layout.setContentsMargins(4, 4, 4, 4)
        for box in (tool_box, class_box, view_box, self.cleanup_box):
            layout.addWidget(box)
        layout.addStretch(1)
        body = QWidget()
        body.setLayout(layout)
        self.setWidget(scrolled(body))  # the docks beside it and short screens: it scrolls

        self.size_spin.valueChanged.connect(self.size_changed)
        self.tolerance_slider.valueChanged.connect(self._on_tolerance_slider_changed)
        self.class_list.currentItemChanged.connect(self._on_class_item_changed)
        self.opacity_slider.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100))
        self.show_mask_check.toggled.connect(self.mask_visible_changed)
        self.outline_check.toggled.connect(self.outline_changed)
        self.band_button.clicked.connect(lambda: self.band_requested.emit(self.band_spin.value()))
        self.holes_button.clicked.connect(self.fill_holes_requested)
        self.islands_button.clicked.connect(
            lambda: self.remove_islands_requested.emit(self.island_spin.value())
        )

    # --- model -> view -------------------------------------------------------------------------
    def set_scheme(self, scheme: LabelScheme) -> None:
        self.class_list.blockSignals(True)
        self.class_list.clear()
        for i, c in enumerate(scheme.classes):
            prefix = f"{i + 1}  " if i < 9 else "    "
            item = QListWidgetItem(_swatch(c.color), f"{prefix}{c.name}  ({c.value})")
            item.setData(Qt.ItemDataRole.UserRole, c.value)
            self.class_list.addItem(item)
        if scheme.ignore_value is not None:  # sparse labels: unlabeled can be painted back
            item = QListWidgetItem(_swatch((128, 128, 128)),
                                   f"    unlabeled  ({scheme.ignore_value})")
            item.setToolTip("Pixels nobody labelled: never read as background; while the masks "
                            "are mostly strokes, training fills them from your strokes first")
            item.setData(Qt.ItemDataRole.UserRole, scheme.ignore_value)
            self.class_list.addItem(item)
        self.class_list.blockSignals(False)
        rows = min(max(self.class_list.count(), 3), 10)  # room for the classes, not more
        frame = 2 * self.class_list.frameWidth() + 4
        self.class_list.setMaximumHeight(rows * max(self.class_list.sizeHintForRow(0), 16)
                                         + frame)
        self.band_button.setEnabled(scheme.kind == "trimap")

    def show_size(self, size: int) -> None:
        self.size_spin.blockSignals(True)
        self.size_spin.setValue(size)
        self.size_spin.blockSignals(False)

    def show_tolerance(self, tolerance: int) -> None:
        self.tolerance_slider.blockSignals(True)
        self.tolerance_slider.setValue(tolerance)
        self.tolerance_slider.blockSignals(False)
        self.tolerance_label.setText(str(tolerance))

    def show_value(self, value: int) -> None:
        self.class_list.blockSignals(True)
        for row in range(self.class_list.count()):
            if self.class_list.item(row).data(Qt.ItemDataRole.UserRole) == value:
                self.class_list.setCurrentRow(row)
                break
        else:
            self.class_list.setCurrentRow(-1)
        self.class_list.blockSignals(False)

    def show_display(self, opacity: float, visible: bool, outline: bool) -> None:
        for widget, setter, value in (
            (self.opacity_slider, self.opacity_slider.setValue, round(opacity * 100)),
            (self.show_mask_check, self.show_mask_check.setChecked, visible),
            (self.outline_check, self.outline_check.setChecked, outline),
        ):
            widget.blockSignals(True)
            setter(value)
            widget.blockSignals(False)

    def show_cleanup(self, band: int, min_island: int) -> None:
        self.band_spin.setValue(band)
        self.island_spin.setValue(min_island)

    # --- view -> model -------------------------------------------------------------------------
    def _on_tolerance_slider_changed(self, tolerance: int) -> None:
        self.tolerance_label.setText(str(tolerance))
        self.tolerance_changed.emit(tolerance)

    def _on_class_item_changed(self, current: QListWidgetItem | None, _previous) -> None:
        if current is not None:
            self.value_changed.emit(int(current.data(Qt.ItemDataRole.UserRole)))
