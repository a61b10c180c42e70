"""The editor's commands and view preferences: the tool, brush size, class and tolerance, the
mask display (opacity, shown, outline), zoom, the pointer read-out and the clean-up operations.

It wires the Tools/View/Mask menus, the tool dock and the canvas to the session and the tool
controller, and remembers the display choices in the application settings (their one owner).
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication

from unet_desktop.core.editing.cleanup import fill_holes, remove_islands, trimap_band
from unet_desktop.core.editing.mask_values import background_value
from unet_desktop.core.labels import LabelScheme


class EditingCommands(QObject):
    message = Signal(str)  # for the status bar

    def __init__(self, session: Any, canvas: Any, tools: Any, tool_dock: Any, actions: Any,
                 settings: Any, pointer_status: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.canvas, self.tools, self.dock = session, canvas, tools, tool_dock
        self.actions, self.settings, self.pointer_status = actions, settings, pointer_status
        self._class_names: dict[int, str] = {}
        self._pointer: tuple[float, float] | None = None  # image coordinates, None: off the image
        self._connect_actions()
        self._connect_widgets()
        self._restore_preferences()

    def _connect_actions(self) -> None:
        a, canvas, tools = self.actions, self.canvas, self.tools
        a.fit.triggered.connect(canvas.fit_to_window)
        a.zoom_in.triggered.connect(lambda: canvas.zoom_by(1.25))
        a.zoom_out.triggered.connect(lambda: canvas.zoom_by(0.8))
        a.show_mask.toggled.connect(self._on_mask_visible_changed)
        a.outline.toggled.connect(self._on_outline_changed)
        a.tool_group.triggered.connect(lambda action: tools.set_tool(action.data()))
        a.size_up.triggered.connect(lambda: tools.change_size(1))
        a.size_down.triggered.connect(lambda: tools.change_size(-1))
        for i, action in enumerate(a.classes):
            action.triggered.connect(lambda _checked=False, i=i: self._on_class_key(i))
        a.trimap_band.triggered.connect(lambda: self.apply_band(self.dock.band_spin.value()))
        a.fill_holes.triggered.connect(self.fill_holes)
        a.remove_islands.triggered.connect(
            lambda: self.remove_islands(self.dock.island_spin.value()))

    def _connect_widgets(self) -> None:
        dock, tools, canvas = self.dock, self.tools, self.canvas
        canvas.pointer_moved.connect(self._on_pointer_moved)
        canvas.pointer_left.connect(self._on_pointer_left)
        # a click, an accept or an undo changes the pixel under a pointer that did not move
        self.session.mask_changed.connect(self._show_pointer_value)
        self.session.document_opened.connect(self._show_pointer_value)
        canvas.zoom_changed.connect(self.pointer_status.show_zoom)
        tools.tool_changed.connect(lambda name: self.actions.tools[name].setChecked(True))
        tools.size_changed.connect(self._on_size_changed)
        tools.tolerance_changed.connect(dock.show_tolerance)
        dock.tolerance_changed.connect(tools.set_tolerance)
        tools.value_changed.connect(dock.show_value)
        dock.size_changed.connect(tools.set_size)
        dock.value_changed.connect(tools.set_value)
        dock.opacity_changed.connect(self._on_opacity_changed)
        dock.mask_visible_changed.connect(self.actions.show_mask.setChecked)
        dock.outline_changed.connect(self.actions.outline.setChecked)
        dock.band_requested.connect(self.apply_band)
        dock.fill_holes_requested.connect(self.fill_holes)
        dock.remove_islands_requested.connect(self.remove_islands)
        dock.band_spin.valueChanged.connect(self._on_cleanup_settings_changed)
        dock.island_spin.valueChanged.connect(self._on_cleanup_settings_changed)

    def _restore_preferences(self) -> None:
        st = self.settings
        self.actions.show_mask.setChecked(st.show_mask)
        self.actions.outline.setChecked(st.outline_only)
        self.canvas.set_mask_visible(st.show_mask)
        self.canvas.set_outline_only(st.outline_only)
        self.canvas.set_mask_opacity(st.mask_opacity)
        self.dock.show_display(st.mask_opacity, st.show_mask, st.outline_only)
        self.dock.show_size(self.tools.size)
        self.dock.show_tolerance(self.tools.tolerance)
        self.dock.show_cleanup(st.band_width, st.min_island)
        self.actions.tools[self.tools.tool_name].setChecked(True)

    def set_scheme(self, scheme: LabelScheme) -> None:
        """A folder with this label scheme was opened: its classes in the dock, the menus, the
        tools and the pointer read-out."""
        self._class_names = {c.value: c.name for c in scheme.classes}
        if scheme.ignore_value is not None:
            self._class_names[scheme.ignore_value] = "unlabeled"
        self.dock.set_scheme(scheme)
        self.actions.name_classes(scheme)  # Tools > Class and the shortcut list
        self.tools.reset_for_scheme(scheme, classes_only=True)
        self.dock.show_value(self.tools.value)

    # --- pointer and display ------------------------------------------------------------------
    def _on_pointer_moved(self, x: float, y: float) -> None:
        self._pointer = (x, y)
        self._show_pointer_value()

    def _on_pointer_left(self) -> None:
        self._pointer = None
        self.pointer_status.clear_pointer()

    def _show_pointer_value(self, *_changed: object) -> None:
        """The read-out of the pixel under the pointer, as the mask is now."""
        document = self.session.document
        if self._pointer is None:
            return
        x, y = self._pointer
        value = document.value_at(x, y) if document is not None else None
        if value is None:
            self.pointer_status.clear_pointer()
        else:
            self.pointer_status.show_pointer(math.floor(x), math.floor(y), value,
                                             self._class_names.get(value, "?"))

    def _on_opacity_changed(self, opacity: float) -> None:
        self.canvas.set_mask_opacity(opacity)
        self.settings.mask_opacity = opacity

    def _on_mask_visible_changed(self, visible: bool) -> None:
        self.canvas.set_mask_visible(visible)
        self.settings.show_mask = visible
        self.dock.show_display(self.settings.mask_opacity, visible, self.settings.outline_only)

    def _on_outline_changed(self, on: bool) -> None:
        self.canvas.set_outline_only(on)
        self.settings.outline_only = on
        self.dock.show_display(self.settings.mask_opacity, self.settings.show_mask, on)

    def _on_size_changed(self, size: int) -> None:
        self.dock.show_size(size)
        self.settings.brush_size = size

    def _on_class_key(self, index: int) -> None:
        document = self.session.document
        scheme = document.scheme if document else None
        if scheme is not None and index < scheme.num_classes:
            self.tools.set_value(scheme.classes[index].value)

    def _on_cleanup_settings_changed(self) -> None:
        self.settings.band_width = self.dock.band_spin.value()
        self.settings.min_island = self.dock.island_spin.value()

    # --- clean-up operations (core.editing.cleanup) ------------------------------------------
    def apply_band(self, band: int) -> None:
        document = self.session.document
        if document is None or document.scheme.kind != "trimap":
            return
        if _unpainted(document):  # the band would label every pixel nobody painted
            self.message.emit("Make Trimap Band rebuilds a whole mask: this one has pixels "
                              "nobody painted (sparse labels); paint the border instead")
            return
        self.session.apply(trimap_band(document.mask, band, source="trimap"))

    def fill_holes(self) -> None:
        document = self.session.document
        if document is None:
            return
        refusal = _fill_holes_refusal(document.scheme, self.tools.value)
        if refusal is not None:
            self.message.emit(refusal)
            return
        self.session.apply(fill_holes(document.mask, self.tools.value,
                                      unlabeled=document.scheme.ignore_value))

    def remove_islands(self, min_size: int) -> None:
        document = self.session.document
        if document is None:
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a second on a huge mask
        try:
            delta = remove_islands(document.mask, min_size,
                                   unlabeled=document.scheme.ignore_value)
        finally:
            QApplication.restoreOverrideCursor()
        self.session.apply(delta)


def _fill_holes_refusal(scheme: LabelScheme, value: int) -> str | None:
    """Why Fill Holes of ``value`` would do harm, or None. The "holes" of unlabeled are the
    strokes, and those of a dense task's background are its objects: either would be erased."""
    if value == scheme.ignore_value:
        return ("Fill Holes fills the holes inside a class; 'unlabeled' is no class (filling its "
                "holes would erase the strokes): select the class whose holes to fill")
    if scheme.ignore_value is None and value == background_value(scheme):
        name = next(c.name for c in scheme.classes if c.value == value)
        return (f"Fill Holes with the background class ({name}) selected would turn every "
                "object inside the background into background: select the class whose holes "
                "to fill")
    return None


def _unpainted(document: Any) -> bool:
    """Whether the mask has pixels nobody painted (a sparse task's unlabeled value)."""
    unlabeled = document.scheme.ignore_value
    return unlabeled is not None and bool((document.mask == unlabeled).any())
