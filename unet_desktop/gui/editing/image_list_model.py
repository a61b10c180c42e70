"""The file list's model: a view of the workspace's entries, not a second store of them.

Each row reads its :class:`~unet_desktop.core.folder.workspace.ImageEntry` (key, state, uncertainty),
the workspace's ``invalid`` record (an image whose mask file cannot be used in the folder's
scheme shows as ``invalid`` with the reason, never as its recorded state: training and batch
predict skip it) and asks the session whether the image has unsaved edits; nothing is copied
into item roles. When an entry changes (through the workspace's methods) its owner calls
:meth:`refresh` and the views repaint that row from the entry.

A key is read from its entry (:meth:`ImageListModel.key_at`), never through Qt: a Qt string
drops what ``os.fsdecode`` made of bytes that are not UTF-8 (a Latin-1 name from an old zip), so
such an image could not be opened. Those bytes are shown as Latin-1 letters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

from unet_desktop.core.shown_names import as_qt_passes_it, not_utf8
from unet_desktop.core.shown_names import shown_text as shown_name
from unet_desktop.gui.icons import state_icon

KEY_ROLE = Qt.ItemDataRole.UserRole + 1  # the key as shown, to filter and sort; see key_at
STATE_ROLE = Qt.ItemDataRole.UserRole + 2
UNCERTAINTY_ROLE = Qt.ItemDataRole.UserRole + 3
DIRTY_ROLE = Qt.ItemDataRole.UserRole + 4

Index = QModelIndex | QPersistentModelIndex
INVALID = "invalid"  # shown instead of the recorded state while the mask file is not usable


def state_name(state: object) -> str:
    return str(getattr(state, "value", state))


class ImageListModel(QAbstractListModel):
    """Rows over a sequence of workspace entries (see the module docstring)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: Sequence[Any] = ()
        self._rows: dict[str, int] = {}
        self._is_dirty: Callable[[str], bool] = lambda key: False
        self._invalid: Mapping[str, str] = {}

    def set_entries(self, entries: Sequence[Any],
                    is_dirty: Callable[[str], bool] | None = None,
                    invalid: Mapping[str, str] | None = None) -> None:
        """Show ``entries`` (the workspace's own list, read, never copied); ``invalid``: the
        workspace's record of masks not usable (key -> reason), read, never copied."""
        self.beginResetModel()
        self._entries = entries
        self._rows = {e.key: i for i, e in enumerate(entries)}
        for i, e in enumerate(entries):  # as a key arrives through a Qt signal (str): refreshable
            self._rows.setdefault(as_qt_passes_it(e.key), i)
        self._is_dirty = is_dirty or (lambda key: False)
        self._invalid = invalid if invalid is not None else {}
        self.endResetModel()

    def state_of(self, entry: Any) -> str:
        """The state shown for ``entry``: ``invalid`` while its mask is not usable."""
        return INVALID if entry.key in self._invalid else state_name(entry.state)

    def refresh(self, key: str) -> None:
        """The entry of ``key`` (or its unsaved mark) changed: repaint its row."""
        index = self.index_of(key)
        if index.isValid():
            self.dataChanged.emit(index, index)

    def index_of(self, key: str) -> QModelIndex:
        row = self._rows.get(key)
        return self.index(row, 0) if row is not None else QModelIndex()

    def entries(self) -> Sequence[Any]:
        return self._entries

    def key_at(self, index: Index) -> str | None:
        """The key of the entry at ``index`` (of this model or of a proxy over it), read from
        the entry itself (see the module docstring); None for no row."""
        while index.isValid() and index.model() is not self:
            index = index.model().mapToSource(index)
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        return self._entries[index.row()].key

    # --- QAbstractListModel ---------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        entry = self._entries[index.row()]
        if role == KEY_ROLE:
            return shown_name(entry.key)
        if role == STATE_ROLE:
            return self.state_of(entry)
        if role == UNCERTAINTY_ROLE:
            return entry.uncertainty
        if role == DIRTY_ROLE:
            return self._is_dirty(entry.key)
        if role == Qt.ItemDataRole.DisplayRole:
            label = shown_name(getattr(entry, "label", entry.key))  # a slice: volume.tif [3/30]
            return f"{label} *" if self._is_dirty(entry.key) else label
        if role == Qt.ItemDataRole.DecorationRole:
            return state_icon(self.state_of(entry))
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{shown_name(getattr(entry, 'label', entry.key))}\nstate: {self.state_of(entry)}"
            if not_utf8(entry.key):
                tip += "\nthe file name is not valid UTF-8: its bytes that are not are read as Latin-1"
            reason = self._invalid.get(entry.key)
            if reason is not None:
                tip += (f"\nmask not usable, skipped by training and batch predict: {reason}"
                        "\n(a mask saved now replaces it; the old file is kept aside)")
            if self._is_dirty(entry.key):
                tip += "\nunsaved changes"
            if entry.uncertainty is not None:
                tip += f"\nuncertainty: {entry.uncertainty:.3f}"
            return tip
        return None
