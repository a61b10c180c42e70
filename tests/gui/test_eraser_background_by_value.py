"""Mask > Eraser Paints Background in a multi-class task paints the background class (the class
named "background", else the one stored as 0), not whatever class the list shows first: moving
a class to the top (Mask > Classes > Up) used to make erased pixels that class. The menu item
names the class it paints."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.helpers import drag
from unet_desktop.core.editing.mask_values import background_class, background_value
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import binary_scheme, multiclass_scheme, trimap_scheme


def _moved_to_top(scheme, index):
    classes = scheme.classes
    return replace(scheme, classes=(classes[index], *classes[:index], *classes[index + 1:]))


def test_the_background_is_taken_by_name_or_value_never_by_order():
    four = multiclass_scheme(["bg", "nucleus", "cyto", "debris"], ignore_value=255)
    assert background_value(_moved_to_top(four, 3)) == 0  # 'debris' on top: still 'bg'
    named = multiclass_scheme(["cell", "Background", "debris"])
    assert background_class(named).name == "Background"
    assert background_value(_moved_to_top(named, 2)) == 1
    assert background_value(binary_scheme()) == 0
    assert background_value(trimap_scheme()) == 2


def test_eraser_paints_background_after_a_class_moved_to_the_top(qtbot, tmp_path):
    root = tmp_path / "four"
    root.mkdir()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(root / "a.png")
    four = multiclass_scheme(["bg", "nucleus", "cyto", "debris"], ignore_value=255)
    save_task(root, Task("four", _moved_to_top(four, 3)))
    win = open_window(qtbot)
    assert win.open_folder(root)
    eraser_background = win.task_commands.actions.eraser_background
    assert "'bg'" in eraser_background.text()
    win.tools.set_tool("brush")
    win.tools.set_size(5)
    win.tools.set_value(1)  # a 'nucleus' stroke, then erased
    drag(qtbot, win.canvas, [(20, 32), (44, 32)])
    eraser_background.trigger()
    win.tools.set_tool("eraser")
    win.tools.set_size(9)
    drag(qtbot, win.canvas, [(20, 32), (44, 32)])
    erased = win.session.document.mask[31:34, 24:41]
    win.close()
    assert np.unique(erased).tolist() == [0]
