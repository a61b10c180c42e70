"""Keys typed into a text or number box of the window belong to that box, not to a shortcut.

Qt offers a key to the window's shortcuts unless the focused widget claims it (a
``ShortcutOverride`` event); spin boxes and line edits do not claim Enter, so Enter in the
brush-size box accepted the prediction. :class:`TextEntryKeys` claims for a box of its window
every key typed without Ctrl, Alt or Meta (Escape excepted) and the box's own editing keys
(Ctrl+Z, Ctrl+A...). Enter in a box of the window's docks then hands the keys back to the canvas,
so the next Ctrl+Z undoes the mask, not the box's text. A floating dock is a window of its own
but Qt still offers it the main window's shortcuts, so its boxes count as the main window's.
Dialogs are other windows: untouched.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDockWidget,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_COMMAND_MODIFIERS = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
                      | Qt.KeyboardModifier.MetaModifier)
_EDITING_KEYS = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo,
                 QKeySequence.StandardKey.SelectAll, QKeySequence.StandardKey.Copy,
                 QKeySequence.StandardKey.Cut, QKeySequence.StandardKey.Paste)
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def text_entry(widget: QObject | None) -> QWidget | None:
    """The editable text or number box ``widget`` is (or is the line edit of), else None."""
    while isinstance(widget, QWidget):
        if isinstance(widget, (QTextEdit, QPlainTextEdit)):
            return widget if not widget.isReadOnly() else None
        if isinstance(widget, QAbstractSpinBox):
            return widget if not widget.isReadOnly() else None
        if isinstance(widget, QComboBox):
            return widget if widget.isEditable() else None
        if isinstance(widget, QLineEdit):
            parent = widget.parentWidget()
            if isinstance(parent, (QAbstractSpinBox, QComboBox)):
                widget = parent  # the line edit inside a spin or combo box
                continue
            return widget if not widget.isReadOnly() else None
        return None
    return None


def shortcut_window(widget: QWidget) -> QWidget:
    """The window whose shortcuts Qt offers the keys typed into ``widget``: its own window, or
    for a floating dock the window the dock belongs to."""
    window = widget.window()
    while isinstance(window, QDockWidget) and window.parentWidget() is not None:
        window = window.parentWidget().window()
    return window


def belongs_to_box(event: QKeyEvent) -> bool:
    """Whether a key typed into a box is the box's (see the module docstring)."""
    if event.key() == Qt.Key.Key_Escape:
        return False
    if not event.modifiers() & _COMMAND_MODIFIERS:
        return True
    return any(event.matches(key) for key in _EDITING_KEYS)


class TextEntryKeys(QObject):
    """Watches the focused box of ``window`` (its event filter follows the focus, so no other
    event pays for it); ``canvas`` gets the keys after Enter."""

    def __init__(self, window: QWidget, canvas: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._canvas = canvas
        self._watched: QWidget | None = None
        QApplication.instance().focusChanged.connect(self._on_focus_changed)

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self._watched is not None and shiboken6.isValid(self._watched):
            self._watched.removeEventFilter(self)
        self._watched = None
        box = text_entry(new)
        if box is not None and shortcut_window(box) is self._window:
            new.installEventFilter(self)
            self._watched = new

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind not in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            return False
        box = text_entry(watched)
        if box is None:
            return False
        if kind == QEvent.Type.ShortcutOverride:
            if belongs_to_box(event):
                event.accept()  # the key goes to the box as a key press, not to a shortcut
                return True
        elif event.key() in _ENTER and not isinstance(box, (QTextEdit, QPlainTextEdit)):
            QTimer.singleShot(0, lambda: self._give_keys_to_canvas(box))  # after it took the value
        return False

    def _give_keys_to_canvas(self, box: QWidget) -> None:
        if text_entry(QApplication.focusWidget()) is box:  # the focus did not move meanwhile
            self._canvas.setFocus(Qt.FocusReason.OtherFocusReason)
