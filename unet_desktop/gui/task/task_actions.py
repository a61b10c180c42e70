"""The task's actions: File > New Task..., Mask > Classes..., Model > Versions..., and what the
eraser paints (Mask > Eraser Paints Unlabeled / Background). Created here, connected by the
:class:`~unet_desktop.gui.task.task_controller.TaskController`.
"""

from __future__ import annotations

from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenuBar, QWidget

from unet_desktop.gui.actions import WindowActions, _action
from unet_desktop.gui.model.model_actions import ModelActions


class TaskActions:
    def __init__(self, parent: QWidget) -> None:
        self.new_task = _action(parent, "New &Task...", "Ctrl+Shift+N",
                                tip="Say what is labelled in this folder: classes, colours, model")
        self.classes = _action(parent, "&Classes...", tip="Rename, recolour, add or reorder the "
                                                          "folder's classes")
        self.versions = _action(parent, "&Versions...",
                                tip="The task's models: switch or roll back")
        self.eraser_group = QActionGroup(parent)
        self.eraser_unlabeled = _action(parent, "Eraser Paints &Unlabeled",
                                        tip="Erased pixels become unlabeled (training fills "
                                            "them from your strokes); without sparse labels: "
                                            "background")
        self.eraser_background = _action(parent, "Eraser Paints &Background",
                                         tip="Erased pixels are labelled background")
        for action in (self.eraser_unlabeled, self.eraser_background):
            action.setCheckable(True)
            self.eraser_group.addAction(action)
        self.eraser_unlabeled.setChecked(True)

    def build_menus(self, menubar: QMenuBar, window: WindowActions, models: ModelActions) -> None:
        window.file_menu.insertAction(window.save, self.new_task)
        window.file_menu.insertSeparator(window.save)
        mask = window.mask_menu
        first = mask.actions()[0] if mask.actions() else None
        for action in (self.classes, self.eraser_unlabeled, self.eraser_background):
            mask.insertAction(first, action)
        mask.insertSeparator(first)
        models.model_menu.insertAction(models.compare_previous, self.versions)
