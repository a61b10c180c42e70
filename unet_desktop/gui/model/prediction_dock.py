"""Dock with the model in use and how its prediction is shown and accepted.

It mirrors the window's state (blocking its own signals while syncing) and reports the user's
changes through signals; it knows nothing about models or documents.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QGridLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)


class PredictionDock(QDockWidget):
    """Model name and version, prediction status, display options, Accept and Next buttons."""

    visible_changed = Signal(bool)
    outline_changed = Signal(bool)
    opacity_changed = Signal(float)
    uncertainty_changed = Signal(bool)
    auto_accept_changed = Signal(bool)
    accept_requested = Signal()
    next_uncertain_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Model and Prediction", parent)
        self.setObjectName("prediction_dock")
        self.model_label = QLabel("Loading the model...")
        self.model_label.setWordWrap(True)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.show_check = QCheckBox("Show prediction")
        self.outline_check = QCheckBox("Outlines only")
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setToolTip("Opacity of the prediction")
        self.uncertainty_check = QCheckBox("Show uncertainty")
        self.uncertainty_check.setToolTip("Heat map of where the model is unsure (Shift+U)")
        self.auto_check = QCheckBox("Use as the mask of unlabeled images")
        self.auto_check.setToolTip("An unlabeled image's prediction becomes its mask by itself "
                                   "(one undo step); corrected masks are never replaced")
        self._auto_tip = self.auto_check.toolTip()
        self.accept_button = QPushButton("Accept")
        self.accept_button.setToolTip("Make the prediction the mask (Enter)")
        self.next_button = QPushButton("Most uncertain")
        self.next_button.setToolTip("Go to the most uncertain image not yet corrected (U)")

        options = QGridLayout()
        options.addWidget(self.show_check, 0, 0)
        options.addWidget(self.outline_check, 0, 1)
        options.addWidget(self.uncertainty_check, 1, 0)
        options.addWidget(self.opacity_slider, 1, 1)
        options.addWidget(self.auto_check, 2, 0, 1, 2)
        options.addWidget(self.accept_button, 3, 0)
        options.addWidget(self.next_button, 3, 1)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self.model_label)
        layout.addWidget(self.status_label)
        layout.addLayout(options)
        layout.addStretch(1)
        self.setWidget(body)

        self.show_check.toggled.connect(self.visible_changed)
        self.outline_check.toggled.connect(self.outline_changed)
        self.opacity_slider.valueChanged.connect(lambda v: self.opacity_changed.emit(v / 100))
        self.uncertainty_check.toggled.connect(self.uncertainty_changed)
        self.auto_check.toggled.connect(self.auto_accept_changed)
        self.accept_button.clicked.connect(self.accept_requested)
        self.next_button.clicked.connect(self.next_uncertain_requested)

    # --- model -> view --------------------------------------------------------------------------
    def show_model(self, text: str) -> None:
        self.model_label.setText(text)

    def show_status(self, text: str) -> None:
        self.status_label.setText(text)

    def show_display(self, visible: bool, outline: bool, opacity: float, uncertainty: bool,
                     auto_accept: bool) -> None:
        for widget, setter, value in (
            (self.show_check, self.show_check.setChecked, visible),
            (self.outline_check, self.outline_check.setChecked, outline),
            (self.opacity_slider, self.opacity_slider.setValue, round(opacity * 100)),
            (self.uncertainty_check, self.uncertainty_check.setChecked, uncertainty),
            (self.auto_check, self.auto_check.setChecked, auto_accept),
        ):
            widget.blockSignals(True)
            setter(value)
            widget.blockSignals(False)

    def show_sparse(self, sparse: bool) -> None:
        """In a task with sparse labels a prediction never becomes the mask by itself (what the
        user paints is the label): the auto-accept option does not apply there and says so."""
        self.auto_check.setEnabled(not sparse)
        self.auto_check.setToolTip(
            "Not in a task with sparse labels: what you paint is the label; Enter accepts the "
            "prediction" if sparse else self._auto_tip)
