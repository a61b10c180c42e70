"""How predictions are shown: the settings are the truth; canvas, dock and menu mirror them."""

from __future__ import annotations

from PySide6.QtCore import QObject

from unet_desktop.gui.editing.canvas import Canvas
from unet_desktop.gui.model.model_actions import ModelActions
from unet_desktop.gui.model.prediction_controller import PredictionController
from unet_desktop.gui.model.prediction_dock import PredictionDock
from unet_desktop.gui.settings import AppSettings


class PredictionDisplay(QObject):
    """Prediction layer visibility, outline and opacity, the uncertainty map, auto-accept."""

    def __init__(self, settings: AppSettings, canvas: Canvas, dock: PredictionDock,
                 actions: ModelActions, controller: PredictionController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.canvas = canvas
        self.dock = dock
        self.actions = actions
        self.controller = controller
        actions.show_prediction.toggled.connect(self.set_prediction_visible)
        actions.show_uncertainty.toggled.connect(self.set_uncertainty_visible)
        dock.visible_changed.connect(self.set_prediction_visible)
        dock.uncertainty_changed.connect(self.set_uncertainty_visible)
        dock.outline_changed.connect(self.set_outline)
        dock.opacity_changed.connect(self.set_opacity)
        dock.auto_accept_changed.connect(self.set_auto_accept)
        self.show()

    def show(self) -> None:
        """Push the preferences into the canvas, the dock and the menu."""
        st = self.settings
        self.canvas.set_prediction_visible(st.show_prediction)
        self.canvas.set_prediction_outline(st.prediction_outline)
        self.canvas.set_prediction_opacity(st.prediction_opacity)
        self.canvas.set_uncertainty_visible(st.show_uncertainty)
        self.dock.show_display(st.show_prediction, st.prediction_outline, st.prediction_opacity,
                               st.show_uncertainty, st.auto_accept)
        self.actions.show_prediction.setChecked(st.show_prediction)  # no signal if unchanged
        self.actions.show_uncertainty.setChecked(st.show_uncertainty)

    def set_prediction_visible(self, visible: bool) -> None:
        self.settings.show_prediction = visible
        self.show()

    def set_uncertainty_visible(self, visible: bool) -> None:
        self.settings.show_uncertainty = visible
        self.show()

    def set_outline(self, on: bool) -> None:
        self.settings.prediction_outline = on
        self.show()

    def set_opacity(self, opacity: float) -> None:
        self.settings.prediction_opacity = opacity
        self.canvas.set_prediction_opacity(opacity)

    def set_auto_accept(self, on: bool) -> None:
        self.settings.auto_accept = on
        self.show()
        if on:  # the prediction on screen may apply now
            self.controller.request_current()
