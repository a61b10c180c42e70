"""Image > Start From the Previous Slice's Mask: neighbouring slices of a stack look alike, so
the saved mask of the slice before becomes the current slice's mask, as one undoable edit."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from unet_desktop.core.errors import FileError


class SliceCommands(QObject):
    def __init__(self, session: Any, image_menu: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.from_previous = QAction("Start From the Previous Slice's Mask", self)
        self.from_previous.setToolTip("Copy the saved mask of the slice before this one into "
                                      "this slice (one undo step); stacks only")
        image_menu.addSeparator()
        image_menu.addAction(self.from_previous)
        self.from_previous.triggered.connect(self.start_from_previous)
        session.document_opened.connect(self._on_document_opened)
        self._on_document_opened()

    def _previous_key(self) -> str | None:
        ws, document = self.session.workspace, self.session.document
        if ws is None or document is None:
            return None
        return ws.neighbour_slice(document.key, -1)

    def _on_document_opened(self) -> None:
        self.from_previous.setEnabled(self._previous_key() is not None)

    def start_from_previous(self) -> bool:
        """Make the previous slice's saved mask this slice's mask; False (and said) if none."""
        previous = self._previous_key()
        if previous is None:
            return False
        try:
            mask = self.session.workspace.load_mask(previous)
        except FileError as exc:
            self.session.error.emit(f"Cannot start from the previous slice: {exc}")
            return False
        document = self.session.document
        if mask is None or mask.shape != document.shape:
            self.session.error.emit(f"The previous slice ({previous}) has no saved mask yet")
            return False
        document.replace_mask(mask, "Start from the previous slice")
        self.session.edit_finished()
        return True
