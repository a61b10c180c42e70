"""Dock listing the workspace's images with state icons, unsaved marks, filter and sort.

The rows are an :class:`ImageListModel` over the workspace's entries (the entries are the truth;
the list observes them): after an entry changed, :meth:`FileListDock.refresh_entry` repaints it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    QSortFilterProxyModel,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from unet_desktop.gui.editing.image_list_model import (
    DIRTY_ROLE,
    INVALID,
    KEY_ROLE,
    STATE_ROLE,
    UNCERTAINTY_ROLE,
    ImageListModel,
)
from unet_desktop.gui.editing.uncertainty_delegate import UncertaintyDelegate
from unet_desktop.gui.icons import state_icon

__all__ = ["DIRTY_ROLE", "KEY_ROLE", "STATE_ROLE", "UNCERTAINTY_ROLE", "FileListDock"]

STATES = ("unlabeled", "predicted", "corrected", "verified", INVALID)
_STATE_ORDER = {state: i for i, state in enumerate(STATES)}
DONE_STATES = ("corrected", "verified")
SORT_MODES = {"name": "Name", "state": "State", "uncertainty": "Uncertainty (high first)"}


class _ImageFilterModel(QSortFilterProxyModel):
    """Filters rows by a name substring and a state; sorts by name, state or uncertainty.

    Each sort ranks the rows once in Python (:meth:`_rank_rows`); Qt's comparisons then only
    compare two ranks (reading each row's data on every comparison froze the window for seconds
    on folders of thousands of images)."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.state = ""
        self.mode = "name"
        self._rank: list[int] | None = None  # source row -> place in the order; None: to make

    def set_filter(self, text: str, state: str) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt >= 6.9; invalidateFilter is deprecated
            self.beginFilterChange()
            self.text, self.state = text.lower(), state
            self.endFilterChange()
        else:
            self.text, self.state = text.lower(), state
            self.invalidateFilter()

    def setSourceModel(self, source) -> None:
        for signal in ("modelAboutToBeReset", "rowsInserted", "rowsRemoved", "dataChanged"):
            getattr(source, signal).connect(self._forget_ranks)
        super().setSourceModel(source)

    def _forget_ranks(self, *_args) -> None:
        self._rank = None

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self._rank = None
        self.invalidate()
        self.sort(0)

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        index = self.sourceModel().index(row, 0, parent)
        if self.state and index.data(STATE_ROLE) != self.state:
            return False
        return self.text in str(index.data(KEY_ROLE)).lower()

    def lessThan(
        self, left: QModelIndex | QPersistentModelIndex, right: QModelIndex | QPersistentModelIndex
    ) -> bool:
        rank = self._rank
        if rank is None:
            rank = self._rank = self._rank_rows()
        return rank[left.row()] < rank[right.row()]

    def _rank_rows(self) -> list[int]:
        source = self.sourceModel()
        if source is None:
            return []
        keys = [self._sort_key(source.index(row, 0)) for row in range(source.rowCount())]
        rank = [0] * len(keys)
        for place, row in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
            rank[row] = place
        return rank

    def _sort_key(self, index: QModelIndex | QPersistentModelIndex) -> tuple:
        key = str(index.data(KEY_ROLE))
        if self.mode == "state":
            return (_STATE_ORDER[index.data(STATE_ROLE)], key)
        if self.mode == "uncertainty":
            u = index.data(UNCERTAINTY_ROLE)
            return (0 if u is not None else 1, -(u or 0.0), key)
        return (key,)


class FileListDock(QDockWidget):
    """The images of the open folder; selecting one emits ``image_selected(key)``."""

    image_selected = Signal(object)  # key: a str, which a Qt string could alter (key_at)
    sort_mode_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Images", parent)
        self.setObjectName("file_list_dock")
        self._model = ImageListModel(self)
        self._quiet = False  # True while re-filtering: selection changes are not the user's
        self._proxy = _ImageFilterModel()
        # rows stay put while their state changes; filter and sort are re-applied on request
        self._proxy.setDynamicSortFilter(False)
        self._proxy.setSourceModel(self._model)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by name")
        self.filter_edit.setClearButtonEnabled(True)
        self.state_combo = QComboBox()
        self.state_combo.addItem("All states", "")
        for state in STATES:
            self.state_combo.addItem(state_icon(state), state.capitalize(), state)
        self.sort_combo = QComboBox()
        for mode, text in SORT_MODES.items():
            self.sort_combo.addItem(text, mode)
        self.view = QListView()
        self.view.setModel(self._proxy)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setUniformItemSizes(True)
        self.view.setItemDelegate(UncertaintyDelegate(UNCERTAINTY_ROLE, self.view))
        self.count_label = QLabel()

        filters = QHBoxLayout()
        filters.addWidget(self.state_combo)
        filters.addWidget(QLabel("Sort:"))
        filters.addWidget(self.sort_combo)
        layout = QVBoxLayout()
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.filter_edit)
        layout.addLayout(filters)
        layout.addWidget(self.view)
        layout.addWidget(self.count_label)
        body = QWidget()
        body.setLayout(layout)
        self.setWidget(body)

        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.state_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.sort_combo.currentIndexChanged.connect(self._on_sort_changed)
        self.view.selectionModel().currentChanged.connect(self._on_current_changed)

    # --- content -------------------------------------------------------------------------------
    def set_entries(self, entries: Sequence,
                    is_dirty: Callable[[str], bool] | None = None,
                    invalid: Mapping[str, str] | None = None) -> None:
        """List the workspace's entries (objects with key, state, uncertainty); ``is_dirty(key)``
        tells which have unsaved edits, ``invalid`` (the workspace's record) which masks cannot
        be used and why.

        Emits nothing: while the old rows go, the current index would walk through them.
        """
        blocker = QSignalBlocker(self.view.selectionModel())
        self._model.set_entries(entries, is_dirty, invalid)
        if self._proxy.sortColumn() != 0:  # else sorted already, as the rows are laid out
            self._proxy.sort(0)
        del blocker
        self._update_count()

    def refresh_entry(self, key: str) -> None:
        """The entry of ``key`` or its unsaved mark changed: show it again (stays in place)."""
        self._model.refresh(key)
        self._update_count()

    def row_data(self, key: str, role: int) -> Any:
        """What the list shows for ``key`` in ``role`` (e.g. ``STATE_ROLE``, ``DisplayRole``)."""
        return self._model.index_of(key).data(role)

    def _update_count(self) -> None:
        total = self._model.rowCount()
        shown = self._proxy.rowCount()
        states = [self._model.state_of(e) for e in self._model.entries()]
        done = sum(1 for state in states if state in DONE_STATES)
        invalid = states.count(INVALID)
        self.count_label.setText(f"{shown} of {total} shown, {done} corrected or verified"
                                 + (f", {invalid} invalid" if invalid else ""))

    # --- navigation ----------------------------------------------------------------------------
    def visible_keys(self) -> list[str]:
        """Keys in the order shown (after filter and sort)."""
        return [self._model.key_at(self._proxy.index(r, 0)) for r in range(self._proxy.rowCount())]

    def current_key(self) -> str | None:
        return self._model.key_at(self.view.currentIndex())

    def select_key(self, key: str) -> bool:
        source = self._model.index_of(key)
        if not source.isValid():
            return False
        index = self._proxy.mapFromSource(source)
        if not index.isValid():  # hidden by the filter: show everything again
            self.filter_edit.clear()
            self.state_combo.setCurrentIndex(0)
            index = self._proxy.mapFromSource(self._model.index_of(key))
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def select_offset(self, step: int) -> bool:
        """Select the image ``step`` rows below (negative: above) the current one."""
        rows = self._proxy.rowCount()
        if rows == 0:
            return False
        current = self.view.currentIndex()
        row = current.row() + step if current.isValid() else (0 if step > 0 else rows - 1)
        if not 0 <= row < rows:
            return False
        index = self._proxy.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)
        return True

    def set_sort_mode(self, mode: str) -> None:
        i = self.sort_combo.findData(mode)
        if i >= 0:
            self.sort_combo.setCurrentIndex(i)

    # --- handlers ------------------------------------------------------------------------------
    def _on_filter_changed(self, *_args) -> None:
        self._keeping_current(
            lambda: self._proxy.set_filter(self.filter_edit.text(), self.state_combo.currentData())
        )
        self._update_count()

    def _on_sort_changed(self, *_args) -> None:
        mode = self.sort_combo.currentData()
        self._keeping_current(lambda: self._proxy.set_mode(mode))
        self.sort_mode_changed.emit(mode)

    def _keeping_current(self, change) -> None:
        """Re-filter or re-sort without switching images: the open image stays selected if
        it is still shown, otherwise nothing is selected."""
        key = self.current_key()
        self._quiet = True
        try:
            change()
            index = self._proxy.mapFromSource(self._model.index_of(key)) if key \
                else QModelIndex()
            if index.isValid():
                self.view.setCurrentIndex(index)
                self.view.scrollTo(index)
            else:
                self.view.selectionModel().clear()
        finally:
            self._quiet = False

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and not self._quiet:
            self.image_selected.emit(self._model.key_at(current))
