"""The window's actions (menu entries with shortcuts), created in one place.

:class:`WindowActions` only creates actions and menus; the main window connects them.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QWidget

from unet_desktop.gui.editing.tool_controller import TOOL_TITLES

TOOL_SHORTCUTS = {
    "brush": "B",
    "eraser": "E",
    "fill": "G",
    "polygon": "P",
    "lasso": "L",
    "eyedropper": "I",
    "box": "R",
    "wand": "W",
    "scissors": "S",
    "fix": "X",
    "accept": "K",
}
# what each tool does and how it is used: the tool buttons' tooltips and the status bar's tip
TOOL_TIPS = {
    "brush": "paints the selected class; drag to paint, [ and ] change the size",
    "eraser": "drag to erase; what it paints (unlabeled or background) is chosen in the "
              "Mask menu",
    "fill": "click: the connected area of the mask's value under the click takes the "
            "selected class",
    "polygon": "click corner after corner; a click on the first corner, a double-click or "
               "Enter fills it with the selected class",
    "lasso": "drag around an area: on release it fills with the selected class",
    "eyedropper": "click a pixel: its class becomes the selected one, then back to the tool "
                  "before",
    "box": "drag a box around an object: it is cut out in the selected class; a drag inside "
           "the box then refines the cut",
    "wand": "click: the connected region of similar colour takes the selected class; the "
            "Tolerance slider (or a sideways drag) grows or shrinks it",
    "scissors": "click points along an edge: the path follows the image's edges; a click on "
                "the first point, a double-click or Enter fills the outline, Escape drops it",
    "fix": "with a prediction shown, click a wrong region: it takes the selected class (or, "
           "if it has it, the class around it); press and release over another class to give "
           "it that one",
    "accept": "with a prediction shown, click a region to take it as labels as predicted, or "
              "drag to accept under the brush; stays the tool until you pick another",
}
MAX_CLASS_KEYS = 9
LISTED_KEYS = "listed_keys"  # action property: the keys Help > Keyboard Shortcuts shows
LISTED_NAME = "listed_name"  # action property: its name there when its text changes (Undo X)


def _action(parent: QWidget, text: str, *shortcuts: QKeySequence | str, tip: str = "") -> QAction:
    action = QAction(text, parent)
    keys: list[QKeySequence] = []
    listed: list[QKeySequence] = []  # what Help lists: a standard key's first binding only
    for s in shortcuts:
        standard = isinstance(s, QKeySequence.StandardKey)
        bindings = QKeySequence.keyBindings(s) if standard else [QKeySequence(s)]
        for key in bindings:
            if key not in keys:
                keys.append(key)
        if bindings and bindings[0] not in listed:
            listed.append(bindings[0])
    action.setShortcuts(keys)  # the platform's aliases work (F14, Alt+Backspace), unlisted
    action.setProperty(LISTED_KEYS, [k.toString() for k in listed])
    if tip:
        action.setStatusTip(tip)
    return action


class WindowActions:
    """Every action of the main window, grouped by menu."""

    def __init__(self, parent: QWidget) -> None:
        std = QKeySequence.StandardKey
        # File
        self.open_folder = _action(parent, "&Open Folder...", std.Open,
                                   tip="Open a folder of images")
        self.recent_menu = QMenu("Open &Recent", parent)
        self.save = _action(parent, "&Save Mask", std.Save, tip="Save the current mask")
        self.quit = _action(parent, "&Quit", std.Quit)
        # Edit
        self.undo = _action(parent, "&Undo", std.Undo)
        self.redo = _action(parent, "&Redo", std.Redo, "Ctrl+Shift+Z", "Ctrl+Y")
        for action, name in ((self.undo, "Undo"), (self.redo, "Redo")):
            action.setProperty(LISTED_NAME, name)  # their text names the step ("Undo Brush")
        self.mark_verified = _action(parent, "Mark &Verified", "Ctrl+E",
                                     tip="Save the mask and mark it verified")
        # Enter finishes an open polygon, otherwise accepts the prediction (ModelActions)
        self.finish_polygon = _action(parent, "&Finish Polygon",
                                      tip="Close the open polygon (Enter)")
        self.cancel = _action(parent, "&Cancel Tool", "Escape")
        # View
        self.fit = _action(parent, "&Fit to Window", "F", "Ctrl+0")
        self.zoom_in = _action(parent, "Zoom &In", std.ZoomIn, "=")
        self.zoom_out = _action(parent, "Zoom &Out", std.ZoomOut, "-")
        self.show_mask = _action(parent, "Show &Mask", "M")
        self.show_mask.setCheckable(True)
        self.outline = _action(parent, "&Outline Only", "O")
        self.outline.setCheckable(True)
        # Image navigation
        self.next_image = _action(parent, "&Next Image", "PgDown", "D")
        self.previous_image = _action(parent, "&Previous Image", "PgUp", "A")
        # Tools
        self.tool_group = QActionGroup(parent)
        self.tools: dict[str, QAction] = {}
        for name, title in TOOL_TITLES.items():
            action = _action(parent, title, TOOL_SHORTCUTS[name], tip=TOOL_TIPS[name])
            action.setToolTip(f"{title} ({TOOL_SHORTCUTS[name]}): {TOOL_TIPS[name]}")
            action.setCheckable(True)
            action.setData(name)
            self.tool_group.addAction(action)
            self.tools[name] = action
        self.size_up = _action(parent, "Bigger Brush", "]")
        self.size_down = _action(parent, "Smaller Brush", "[")
        self.classes = [_action(parent, f"Class {i + 1}", str(i + 1)) for i in range(MAX_CLASS_KEYS)]
        # Mask clean-up
        self.trimap_band = _action(
            parent, "Make Trimap &Band", tip="Rebuild the border class as a band around the "
            "object (trimap folders only: object, background and border)")
        self.fill_holes = _action(parent, "Fill &Holes")
        self.remove_islands = _action(parent, "Remove &Islands")

    def name_classes(self, scheme) -> None:
        """The class keys as the folder's classes ("1: membrane"); keys beyond them hidden."""
        for i, action in enumerate(self.classes):
            known = i < scheme.num_classes
            action.setText(f"{i + 1}: {scheme.classes[i].name}" if known else f"Class {i + 1}")
            action.setVisible(known)

    def build_menus(self, menubar: QMenuBar) -> None:
        self.file_menu = file_menu = menubar.addMenu("&File")
        file_menu.addAction(self.open_folder)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(self.save)
        file_menu.addSeparator()
        self.file_menu_end = file_menu.addSeparator()
        file_menu.addAction(self.quit)

        self.edit_menu = edit_menu = menubar.addMenu("&Edit")
        for action in (self.undo, self.redo, None, self.mark_verified, None,
                       self.finish_polygon, self.cancel):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)

        self.view_menu = view_menu = menubar.addMenu("&View")
        for action in (self.fit, self.zoom_in, self.zoom_out, None, self.show_mask, self.outline):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)

        self.image_menu = image_menu = menubar.addMenu("&Image")
        image_menu.addAction(self.next_image)
        image_menu.addAction(self.previous_image)

        self.tools_menu = tools_menu = menubar.addMenu("&Tools")
        for action in self.tools.values():
            tools_menu.addAction(action)
        tools_menu.addSeparator()
        tools_menu.addAction(self.size_up)
        tools_menu.addAction(self.size_down)
        self.class_menu = class_menu = tools_menu.addMenu("&Class")
        for action in self.classes:
            class_menu.addAction(action)

        self.mask_menu = mask_menu = menubar.addMenu("&Mask")
        for action in (self.trimap_band, self.fill_holes, self.remove_islands):
            mask_menu.addAction(action)

    def add_panels(self, docks: list[QDockWidget]) -> None:
        """View's show/hide entry of each dock: a panel closed with its X comes back from here
        (the window saves it closed)."""
        self.view_menu.addSection("Panels")
        for dock in docks:
            action = dock.toggleViewAction()
            action.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
            self.view_menu.addAction(action)
