"""The model-in-the-loop actions (predictions, batch prediction, fine-tuning, the Model menu).

Like :class:`~unet_desktop.gui.actions.WindowActions`, this only creates actions and puts them
into menus; the window and its controllers connect them. The Device submenu is filled when it
is about to show (listing devices imports torch, which the window must not do at start-up).
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from unet_desktop.gui.actions import WindowActions, _action
from unet_desktop.gui.model.model_controller import MODES

MODE_TITLES = {"resize": "&Resize to the Training Scale", "tile": "&Tiles at Full Resolution"}


class ModelActions:
    """Actions for predictions and models, grouped by the menu they go into."""

    def __init__(self, parent: QWidget) -> None:
        # Edit / View / Image
        self.accept_prediction = _action(parent, "&Accept Prediction", "Return", "Enter",
                                         tip="Make the prediction the mask (one undo step)")
        self.show_prediction = _action(parent, "Show &Prediction", "Shift+M")
        self.show_prediction.setCheckable(True)
        self.show_uncertainty = _action(parent, "Show &Uncertainty", "Shift+U",
                                        tip="Heat map of where the model is unsure")
        self.show_uncertainty.setCheckable(True)
        self.next_uncertain = _action(parent, "Next Most &Uncertain", "U",
                                      tip="The most uncertain image not yet corrected")
        # File
        self.batch_predict = _action(parent, "&Batch Predict Folder...", "Ctrl+B",
                                     tip="Predict the masks of a whole folder")
        # Training
        self.finetune = _action(parent, "&Fine-tune on Corrected Images...", "Ctrl+T",
                                tip="Teach the model from the corrected and verified masks")
        self.show_training = _action(parent, "Show Training &Dock")
        self.learn_as_i_correct = _action(
            parent, "&Learn as I Correct",
            tip="Fine-tune a little after each corrected image (remembered for this folder)")
        self.learn_as_i_correct.setCheckable(True)
        # Model
        self.open_model = _action(parent, "&Open Model...", "Ctrl+Shift+O")
        self.save_model_as = _action(parent, "&Save Model As...")
        self.export_onnx = _action(parent, "&Export ONNX...")
        self.model_card = _action(parent, "Model &Card", "Ctrl+I")
        self.compare_previous = _action(parent, "&Compare with Previous Model", "C",
                                        tip="Show the previous model's prediction / back")
        self.compare_previous.setCheckable(True)
        self.rollback = _action(parent, "&Roll Back to Previous Model")
        self.device_menu = QMenu("&Device", parent)
        self.device_group = QActionGroup(parent)
        self.mode_menu = QMenu("Prediction &Mode", parent)
        self.mode_group = QActionGroup(parent)
        self.modes: dict[str, QAction] = {}
        for mode in MODES:
            action = _action(parent, MODE_TITLES[mode])
            action.setCheckable(True)
            action.setData(mode)
            self.mode_group.addAction(action)
            self.mode_menu.addAction(action)
            self.modes[mode] = action
        self.flip_averaging = _action(parent, "&Flip Averaging (TTA)",
                                      tip="Average each prediction over flips: steadier masks, "
                                          "3x the work")
        self.flip_averaging.setCheckable(True)
        self.model_menu: QMenu | None = None
        self.training_menu: QMenu | None = None

    def build_menus(self, menubar: QMenuBar, window: WindowActions) -> None:
        """Add these actions to the window's menus and append the Model and Training menus."""
        window.file_menu.insertAction(window.file_menu_end, self.batch_predict)
        window.edit_menu.insertAction(window.mark_verified, self.accept_prediction)
        window.view_menu.addSeparator()
        window.view_menu.addAction(self.show_prediction)
        window.view_menu.addAction(self.show_uncertainty)
        window.image_menu.addAction(self.next_uncertain)

        self.model_menu = menubar.addMenu("M&odel")
        for action in (self.open_model, self.save_model_as, self.export_onnx, None,
                       self.model_card, None, self.compare_previous, self.rollback, None):
            self.model_menu.addSeparator() if action is None else self.model_menu.addAction(action)
        self.model_menu.addMenu(self.mode_menu)
        self.model_menu.addAction(self.flip_averaging)
        self.model_menu.addMenu(self.device_menu)

        self.training_menu = menubar.addMenu("&Training")
        self.training_menu.addAction(self.finetune)
        self.training_menu.addAction(self.learn_as_i_correct)
        self.training_menu.addAction(self.show_training)

    def set_device_choices(self, choices: list, current: str) -> list[QAction]:
        """Fill the Device submenu with ``DeviceChoice`` items, ``current`` checked."""
        self.device_menu.clear()
        for action in self.device_group.actions():
            self.device_group.removeAction(action)
        actions = []
        for choice in choices:
            action = self.device_menu.addAction(choice.label)
            action.setCheckable(True)
            action.setData(choice.name)
            action.setChecked(choice.name == current)
            self.device_group.addAction(action)
            actions.append(action)
        return actions
