"""Greyed menu entries say why they are greyed, and when they become available.

A disabled action shows no reason anywhere: a menu shows no status tip for it, and its key does
nothing. :class:`GreyedReasons` gives each action it watches, while that action is disabled, its
reason as tooltip (its menus show tooltips) and a stand-in for its keys that says the reason in
the status bar (:attr:`GreyedReasons.message`). Enabled again, the action has its own tooltip
back and the stand-in is off, so the key is the action's alone.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QMenu, QWidget

NO_TASK_YET = ("Available once the folder has a task: File > New Task... makes one, and so "
               "do a fine-tune and Learn as I Correct")
NO_PREVIOUS_MODEL = ("Available once another model has replaced the first one in this session "
                     "(a fine-tune's result, a model opened, a version chosen): C then switches "
                     "between the two")
NOTHING_TO_ROLL_BACK_TO = ("Available once there is a model to go back to: the one used before "
                           "this one in this session, or the version the task's model was "
                           "fine-tuned from")
NO_PREVIOUS_SLICE = "Available on a slice of a multi-page stack, from its second slice on"


class GreyedReasons(QObject):
    """Watches actions that are sometimes disabled; says why they are, while they are."""

    message = Signal(str)

    def __init__(self, window: QWidget, reasons: list[tuple[QAction, str]]) -> None:
        super().__init__(window)
        for action, reason in reasons:
            self._watch(window, action, reason)

    def _watch(self, window: QWidget, action: QAction, reason: str) -> None:
        own_tip = action.toolTip() if action.toolTip() != action.iconText() else ""
        stand_ins = [QShortcut(key, window) for key in action.shortcuts()]
        said = f"{action.iconText()}: not available now. {reason}"  # iconText: no '&', '...'
        for stand_in in stand_ins:
            stand_in.activated.connect(lambda: self.message.emit(said))
        for menu in action.associatedObjects():
            if isinstance(menu, QMenu):
                menu.setToolTipsVisible(True)

        def show(enabled: bool) -> None:
            action.setToolTip(own_tip if enabled else reason)
            for stand_in in stand_ins:
                stand_in.setEnabled(not enabled)  # never two shortcuts live on one key

        action.enabledChanged.connect(show)
        show(action.isEnabled())
