"""Editing a task never costs the strokes its masks hold: Mask > Classes... and File > New Task...
refuse a change of the values that saved masks or unsaved strokes may hold (a removed class's
value is never given to a new class), a binary task never stores unlabeled pixels as a value the
mask reader takes for a class, and a new set-up keeps the task's input rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.helpers import drag
from unet_desktop.core.folder.task import Task, load_task, save_task
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import LabelScheme, binary_scheme, multiclass_scheme
from unet_desktop.gui.task.class_editor import ClassEditor, dropped_values_problem
from unet_desktop.gui.task.task_dialog import TaskDialog

SPARSE_BINARY = binary_scheme(("outside", "cell"), ignore_value=128)
THREE_CLASSES = multiclass_scheme(["bg", "nucleus", "membrane"], ignore_value=255)
MEMBRANE = 2
HELD = "masks of this folder may hold the values"


def folder(tmp_path: Path, scheme: LabelScheme, input_rule: dict | None = None) -> Path:
    """Two small images and a task with ``scheme``, no masks."""
    root = tmp_path / "cells"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        image = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(image).save(root / f"c{i}.png")
    save_task(root, Task("cells", scheme, input_rule=input_rule or {}))
    return root


def window_with_a_stroke(qtbot, root: Path, value: int, saved: bool):
    win = open_window(qtbot)
    assert win.open_folder(root)
    win.tools.set_tool("brush")
    win.tools.set_size(3)
    win.tools.set_value(value)
    drag(qtbot, win.canvas, [(5, 5), (20, 5)])
    assert win.session.document.dirty
    if saved:
        assert win.session.save()
    return win


def ok_enabled(dialog) -> bool:
    return dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_a_class_added_after_removing_a_painted_one_never_takes_its_value(qtbot, tmp_path):
    root = folder(tmp_path, THREE_CLASSES)
    win = window_with_a_stroke(qtbot, root, MEMBRANE, saved=True)
    errors: list[str] = []
    win.task_commands.error.connect(errors.append)
    dialog = win.task_commands.edit_classes()
    dialog.editor.remove_class(2)
    assert f"{HELD} [2]" in dialog.problem_label.text()
    dialog.editor.add_class("mitochondrion")
    assert [c.value for c in dialog.editor.scheme().classes] == [0, 1, 3]
    assert f"{HELD} [2]" in dialog.problem_label.text()  # until the removal is undone
    assert not ok_enabled(dialog)
    dialog.accept()  # as if OK were pressed anyway: refused with the reason
    assert errors and HELD in errors[-1]
    ws = win.session.workspace
    assert ws.scheme == THREE_CLASSES
    assert MEMBRANE in read_mask(root / "masks" / "c0.png", ws.scheme)
    win.close()


def test_a_removed_class_value_may_become_the_unlabeled_value(qtbot):
    # the masks stay readable (its pixels become unlabeled; the editor asks to confirm:
    # tests/gui/test_classes_void_made_unlabeled.py); another value is refused
    editor = ClassEditor(multiclass_scheme(["bg", "nucleus", "membrane"]))
    qtbot.addWidget(editor)
    editor.remove_class(2)
    editor.set_sparse(True, MEMBRANE)
    assert dropped_values_problem(multiclass_scheme(3), editor.scheme()) is None
    editor.set_sparse(True, 100)
    assert f"{HELD} [2]" in dropped_values_problem(multiclass_scheme(3), editor.scheme())


@pytest.mark.parametrize("kind", ["binary", "trimap", "multiclass"])
def test_one_is_refused_as_the_unlabeled_value_only_where_a_mask_reader_takes_it_for_a_class(
        qtbot, kind):
    editor = ClassEditor()
    qtbot.addWidget(editor)
    editor.set_kind(kind)
    editor.set_sparse(True, 1)
    if kind == "binary":  # 0s and 1s read as 0/255: unlabeled would become foreground
        with pytest.raises(ValueError, match="unlabeled value 1 would read as foreground"):
            editor.scheme()
    else:  # 1 is a class there
        with pytest.raises(ValueError, match="also a class's value"):
            editor.scheme()


def test_the_task_dialog_refuses_one_as_a_binary_tasks_unlabeled_value(qtbot):
    dialog = TaskDialog(binary_scheme(ignore_value=128), name="cells")
    qtbot.addWidget(dialog)
    dialog.classes.unlabeled_spin.setValue(1)
    assert "would read as foreground" in dialog.problem_label.text()
    assert not ok_enabled(dialog)
    dialog.classes.unlabeled_spin.setValue(100)
    assert ok_enabled(dialog)


@pytest.mark.parametrize("change", ["unlabeled value", "painted class"])
def test_classes_refuse_a_change_that_unsaved_strokes_would_not_survive(qtbot, tmp_path, change):
    scheme, value = ((SPARSE_BINARY, 255) if change == "unlabeled value"
                     else (THREE_CLASSES, MEMBRANE))
    root = folder(tmp_path, scheme)
    win = window_with_a_stroke(qtbot, root, value, saved=False)
    dialog = win.task_commands.edit_classes()
    if change == "unlabeled value":
        dialog.editor.unlabeled_spin.setValue(100)
        assert f"{HELD} [128]" in dialog.problem_label.text()
    else:
        dialog.editor.remove_class(2)
        assert f"{HELD} [2]" in dialog.problem_label.text()
    assert not ok_enabled(dialog)
    dialog.accept()
    document = win.session.document
    assert win.session.workspace.scheme == scheme
    assert document.dirty and value in document.mask  # the strokes stay, still undoable
    assert document.can_undo
    win.close()


def test_classes_may_change_freely_before_any_stroke(qtbot, tmp_path):
    root = folder(tmp_path, SPARSE_BINARY)
    win = open_window(qtbot)
    assert win.open_folder(root)
    dialog = win.task_commands.edit_classes()
    dialog.editor.unlabeled_spin.setValue(100)
    assert ok_enabled(dialog)
    dialog.accept()
    assert win.session.workspace.scheme.ignore_value == 100
    win.close()


@pytest.mark.parametrize("change", ["untick sparse", "unlabeled value", "kind"])
def test_new_task_refuses_what_the_classes_dialog_refuses_on_saved_strokes(
        qtbot, tmp_path, change):
    root = folder(tmp_path, SPARSE_BINARY)
    win = window_with_a_stroke(qtbot, root, 255, saved=True)
    errors: list[str] = []
    win.task_commands.error.connect(errors.append)
    dialog = win.task_commands.new_task()
    if change == "untick sparse":
        dialog.classes.set_sparse(False)
    elif change == "unlabeled value":
        dialog.classes.unlabeled_spin.setValue(100)
    else:
        dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("multiclass"))
    assert HELD in dialog.problem_label.text()
    assert not ok_enabled(dialog)
    dialog.accept()
    assert errors and HELD in errors[-1]
    ws = win.session.workspace
    assert ws.scheme == SPARSE_BINARY and not ws.invalid
    win.close()


def test_new_task_refuses_a_change_that_unsaved_strokes_would_not_survive(qtbot, tmp_path):
    root = folder(tmp_path, SPARSE_BINARY)
    win = window_with_a_stroke(qtbot, root, 255, saved=False)
    dialog = win.task_commands.new_task()
    dialog.classes.set_sparse(False)
    assert f"{HELD} [128]" in dialog.problem_label.text()
    dialog.classes.set_sparse(True)
    assert ok_enabled(dialog)  # renaming and the rest stay free
    dialog.reject()
    win.close()


def test_new_task_shows_and_keeps_the_tasks_input_rule(qtbot, tmp_path):
    rule = InputRule("percentile", low=2.0, high=98.0, channels=(1,)).to_dict()
    root = folder(tmp_path, SPARSE_BINARY, input_rule=rule)
    win = open_window(qtbot)
    assert win.open_folder(root)
    dialog = win.task_commands.new_task()
    assert dialog.input_combo.currentData() == "percentile"
    assert dialog.channels_edit.text() == "2"
    dialog.user_radio.setChecked(True)  # only where the models are kept
    dialog.accept()
    assert load_task(root).input_rule == rule
    dialog = win.task_commands.new_task()
    dialog.channels_edit.setText("1,2,3")  # the channels change; the percentiles stay
    dialog.accept()
    assert load_task(root).input_rule == {"kind": "percentile", "low": 2.0, "high": 98.0,
                                          "channels": [0, 1, 2]}
    win.close()


def test_a_new_task_on_masks_without_a_task_gives_a_new_class_no_value_they_hold(qtbot,
                                                                               tmp_path):
    """A folder of multi-class masks and no task yet (read by a guess the task may correct):
    its last class removed in File > New Task and another added, the new one takes a value
    no mask holds (it took the removed class's: all its pixels became the new class)."""
    root = tmp_path / "streets"
    (root / "masks").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(
            root / f"s{i}.png")
        Image.fromarray((np.arange(20 * 24).reshape(20, 24) % 4).astype(np.uint8)).save(
            root / "masks" / f"s{i}.png")
    win = open_window(qtbot)
    assert win.open_folder(root) and win.session.workspace.task is None
    dialog = win.task_commands.new_task()
    assert [c.value for c in dialog.classes.scheme().classes] == [0, 1, 2, 3]
    dialog.classes.remove_class(3)
    dialog.classes.add_class("bridge")
    assert [c.value for c in dialog.classes.scheme().classes] == [0, 1, 2, 4]
    dialog.reject()
    win.close()
