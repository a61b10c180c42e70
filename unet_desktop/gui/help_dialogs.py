"""The Help menu: Keyboard Shortcuts (read from the menus' actions, so it cannot drift from
them, plus the mouse on the canvas), the file list's state icons, links to the guides, and
About (version, model, device, log folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import getCppPointer

from unet_desktop.gui.actions import LISTED_KEYS, LISTED_NAME
from unet_desktop.gui.icons import STATE_COLORS, state_icon

STATE_MEANINGS = {
    "unlabeled": "no mask yet",
    "predicted": "the mask is a model's prediction nobody corrected",
    "corrected": "the mask was edited (or came with the folder): training data",
    "verified": "checked and marked verified (Ctrl+E): training data",
    "invalid": "the mask file cannot be used in this folder's classes (the tooltip says why): "
               "training and batch predict skip it; a mask saved replaces it",
}


MOUSE_ROWS = [  # the canvas's own mouse handling (gui/editing/canvas.py), not actions
    ("Canvas", "Paint, fill or draw with the tool", "Left button"),
    ("Canvas", "Zoom at the pointer", "Mouse wheel"),
    ("Canvas", "Pan", "Middle button drag"),
    ("Canvas", "Zoom", "Right button drag"),  # pyqtgraph's ViewBox scales on a right drag
]
SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the checkout, where README and docs/ are
GUIDES = [  # (menu text, file under SOURCE_ROOT, anchor)
    ("Your Own &Task", "README.md", "your-own-task"),
    ("&Sparse Labels", "docs/sparse-labels.md", ""),
    ("&Learning as You Correct", "docs/learning-loop.md", ""),
    ("T&roubleshooting", "README.md", "troubleshooting"),
]
# keys no ordinary keyboard types (Qt lists them beside Ctrl+Z, Ctrl++: F14, Undo, Zoom In)
_FIRST_SPECIAL_KEY = Qt.Key.Key_F13.value


def _plain(text: str) -> str:
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".")


def shortcut_rows(menubar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for every action with a shortcut in ``menubar``'s menus, in menu
    order; submenus as ``Tools > Class``."""
    rows: list[tuple[str, str, str]] = []
    menus = _menus_by_action(menubar)

    def walk(menu: QMenu, path: str) -> None:
        for action in menu.actions():
            sub = menus.get(getCppPointer(action)[0])
            if sub is not None:
                walk(sub, f"{path} > {_plain(sub.title())}")
            elif not action.isSeparator() and action.isVisible() and typed_keys(action):
                name = action.property(LISTED_NAME) or _plain(action.text())
                rows.append((path, name, typed_keys(action)))

    for action in menubar.actions():
        menu = menus.get(getCppPointer(action)[0])
        if menu is not None:
            walk(menu, _plain(menu.title()))
    return rows


def _menus_by_action(menubar: QMenuBar) -> dict[int, QMenu]:
    """The window's menus keyed by their menu action's address. Not ``QAction.menu()``: before
    PySide6 6.11 the wrapper it returns owns the menu, which is deleted with it (the window's
    menus died after Help > Keyboard Shortcuts)."""
    return {getCppPointer(menu.menuAction())[0]: menu
            for menu in menubar.window().findChildren(QMenu)}


def typed_keys(action: QAction) -> str:
    """The keys of ``action`` a keyboard types, each once: Qt's platform aliases (F14,
    Alt+Backspace, the Undo and Zoom In keys) left out, Return and the keypad's Enter shown as
    one "Enter"."""
    names: list[str] = []
    listed = action.property(LISTED_KEYS)  # set by gui.actions: the primary bindings
    sequences = [QKeySequence(k) for k in listed] if listed else action.shortcuts()
    for sequence in sequences:
        key = sequence[0].key() if sequence.count() else None
        if key is None or key.value >= _FIRST_SPECIAL_KEY:
            continue
        name = sequence.toString(QKeySequence.SequenceFormat.NativeText)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and sequence.count() == 1:
            name = "Enter"
        if name not in names:
            names.append(name)
    return ", ".join(names)


def guide_url(file: str, anchor: str = "", root: Path = SOURCE_ROOT) -> QUrl | None:
    """The guide as a local file of the checkout; None where it is not installed (a wheel)."""
    path = root / file
    if not path.is_file():
        return None
    url = QUrl.fromLocalFile(str(path))
    if anchor:
        url.setFragment(anchor)
    return url


def _table(headers: list[str], rows: list[tuple]) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, value if isinstance(value, QTableWidgetItem)
                          else QTableWidgetItem(str(value)))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class ShortcutsDialog(QDialog):
    """Every menu action with its keys, filtered by what the user types."""

    def __init__(self, menubar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.rows = shortcut_rows(menubar) + MOUSE_ROWS
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter: an action, a menu or a key")
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.table = _table(["Menu", "Action", "Keys"], self.rows)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        screen = self.screen().availableGeometry()
        self.resize(min(560, screen.width()), min(640, int(screen.height() * 0.85)))

    def _on_filter_changed(self, text: str) -> None:
        needle = text.strip().lower()
        for r, row in enumerate(self.rows):
            self.table.setRowHidden(r, bool(needle) and needle not in " ".join(row).lower())


class StateLegendDialog(QDialog):
    """What the icons of the file list mean."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("File List Icons")
        rows = []
        for state in STATE_COLORS:
            item = QTableWidgetItem(state_icon(state), state.capitalize())
            rows.append((item, STATE_MEANINGS[state]))
        self.table = _table(["State", "Meaning"], rows)
        self.table.setWordWrap(True)  # the whole meaning, on as many lines as it takes
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        note = QLabel("The number at the right of a row is the model's mean uncertainty on "
                      "that image (0 sure .. 1 unsure; Image > Next Most Uncertain follows it); "
                      "a * after a name marks unsaved edits.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(640, 360)
        self.table.resizeRowsToContents()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.table.resizeRowsToContents()  # wrapped meanings follow the column's width


def about_rows(model: Any | None, device: str, log_folder: Any) -> list[tuple[str, str]]:
    """(field, text) for Help > About (Qt-free)."""
    from unet_desktop import __version__

    if model is None:
        model_text, device_text = "none loaded", device
    else:
        where = f" - {model.path}" if model.path else ""
        model_text = f"{model.label}{where}"
        device_text = f"{model.predictor.device} (asked for: {device})"
    return [("Version", __version__), ("Model", model_text), ("Device", device_text),
            ("Log folder", str(log_folder))]


class AboutDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About unet-desktop")
        form = QFormLayout()
        self.value_labels: dict[str, QLabel] = {}
        for title, text in rows:
            label = QLabel(text)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{title}:", label)
            self.value_labels[title] = label
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>unet-desktop</b>: human-in-the-loop image segmentation"))
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())


class HelpMenu:
    """Help > Keyboard Shortcuts, File List Icons, About; each dialog deleted once closed."""

    def __init__(self, window: QWidget, about: Any) -> None:
        """``about()`` returns the About rows at the moment the dialog opens."""
        self._window = window
        self._about = about
        self.shortcuts = QAction("&Keyboard Shortcuts", window)
        self.shortcuts.setShortcut(QKeySequence("F1"))
        self.legend = QAction("File List &Icons", window)
        self.guides: list[QAction] = []
        for title, file, anchor in GUIDES:
            action = QAction(title, window)
            url = guide_url(file, anchor)
            action.setEnabled(url is not None)
            action.setStatusTip(f"Open {file}" if url is not None else
                                f"{file} is in the project's source repository")
            action.triggered.connect(lambda _c=False, u=url: QDesktopServices.openUrl(u))
            self.guides.append(action)
        self.about = QAction("&About unet-desktop", window)
        self.shortcuts.triggered.connect(self.show_shortcuts)
        self.legend.triggered.connect(lambda: self._show(StateLegendDialog(self._window)))
        self.about.triggered.connect(lambda: self._show(AboutDialog(self._about(), self._window)))
        self.dialog: QDialog | None = None  # the one shown last

    def build_menu(self, menubar: QMenuBar) -> QMenu:
        self.menu = menubar.addMenu("&Help")
        for action in (self.shortcuts, self.legend, None, *self.guides, None, self.about):
            self.menu.addSeparator() if action is None else self.menu.addAction(action)
        self._menubar = menubar
        return self.menu

    def show_shortcuts(self) -> ShortcutsDialog:
        return self._show(ShortcutsDialog(self._menubar, self._window))

    def _show(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda: self._forget(dialog))
        self.dialog = dialog
        dialog.show()
        return dialog

    def _forget(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
