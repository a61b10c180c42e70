"""A labelling task of one's own, through the real window: the task dialog on a folder without
masks, renamed and recoloured classes, scribbles that leave pixels unlabeled, a fine-tune named
after the task, reopening, the banner of a model that does not fit, invalid masks, and viewing
that never writes a file."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, tiny_model  # noqa: F401 - fixture by name
from tests.gui.helpers import drag
from unet_desktop.core.folder.task import load_task
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import IGNORE_INDEX
from unet_desktop.ml.models.architecture import unet_arch

H, W = 40, 48
UNLABELED = 128  # the binary task's default unlabeled value (docs/sparse-labels.md)
QUICK = {"arch": unet_arch(3, 2, depth=2, base=4), "batch_size": 2, "patience": None}


def disc_image(i: int) -> np.ndarray:
    rng = np.random.default_rng(i)
    yy, xx = np.mgrid[:H, :W]
    inside = (yy - 20) ** 2 + (xx - 16 - 2 * i) ** 2 < 81
    return (rng.normal(60, 15, (H, W, 3)) + inside[..., None] * 130).clip(0, 255).astype(np.uint8)


@pytest.fixture
def cells(tmp_path) -> Path:
    """A flat folder of six images, no masks, no task."""
    root = tmp_path / "cells"
    root.mkdir()
    for i in range(6):
        Image.fromarray(disc_image(i)).save(root / f"cell_{i}.png")
    return root


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def task_dialog(qtbot, win):
    qtbot.waitUntil(lambda: win.task_commands.dialog is not None, timeout=TIMEOUT_MS)
    dialog = win.task_commands.dialog
    assert dialog.isVisible()
    return dialog


def select(qtbot, win, key: str) -> None:
    win.file_dock.select_key(key)
    qtbot.waitUntil(lambda: win.session.current_key == key, timeout=TIMEOUT_MS)


def scribble(qtbot, win, value: int, points) -> None:
    win.tools.set_tool("brush")
    win.tools.set_value(value)
    win.tools.set_size(3)
    drag(qtbot, win.canvas, points)


def fine_tune(qtbot, win, epochs: int = 2):
    """Training > Fine-tune...; returns the plan and what the dialog said it starts from."""
    win.training_commands.config_overrides = QUICK
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    dialog.epochs_spin.setValue(epochs)
    dialog.size_spin.setValue(32)
    plan, origin = dialog.plan, dialog.model_label.text()
    with qtbot.waitSignal(win.task_commands.task_changed, timeout=120_000):
        dialog.accept()
    qtbot.waitUntil(lambda: win.models.active is not None
                    and win.models.active.path == plan.out, timeout=TIMEOUT_MS)
    # the worker swaps the model in before the window hears of it (model_changed): wait for that
    qtbot.waitUntil(lambda: not win.models.loading, timeout=TIMEOUT_MS)
    return plan, origin


def test_a_binary_task_from_scribbles_to_a_model_that_reopens_with_the_folder(
        qtbot, cells, tiny_model):
    win = open_window(qtbot, model_path=tiny_model, ask_for_task=True)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(cells)
    dialog = task_dialog(qtbot, win)  # no masks, no task: it asks
    assert dialog.kind_combo.currentData() == "binary"
    dialog.name_edit.setText("cells")
    dialog.classes.rename(0, "outside")
    dialog.classes.rename(1, "cell")
    dialog.classes.set_colour(1, (0, 200, 120))
    assert dialog.classes.unlabeled_value() == UNLABELED
    assert dialog.imagenet_radio.isChecked() and dialog.folder_radio.isChecked()
    assert dialog.scale_combo.isEnabled() and dialog.scale_combo.currentData() == "fit"
    dialog.model_radio.setChecked(True)  # a model file keeps its own scale
    assert not dialog.scale_combo.isEnabled()
    dialog.imagenet_radio.setChecked(True)
    dialog.scale_combo.setCurrentIndex(dialog.scale_combo.findData("native"))  # thin walls
    dialog.accept()

    ws = win.session.workspace
    assert ws.scheme.names == ["outside", "cell"] and ws.scheme.ignore_value == UNLABELED
    assert load_task(cells).scheme == ws.scheme
    saved = json.loads((cells / ".unet-desktop" / "task.json").read_text())
    assert saved["name"] == "cells" and saved["scheme"]["classes"][1]["color"] == [0, 200, 120]
    assert saved["scale"] == "native"
    # the tiny trimap model does not fit: said above the canvas, never accepted
    assert win.task_banner.isVisible() and "does not fit" in win.task_banner.text()
    assert not win.prediction_dock.accept_button.isEnabled()
    document = win.session.document
    assert np.all(document.mask == UNLABELED)  # a new task starts all-unlabeled
    qtbot.waitUntil(lambda: win.prediction.shown is not None, timeout=TIMEOUT_MS)
    assert not win.prediction.accept()
    assert np.all(document.mask == UNLABELED) and not document.dirty
    assert win.prediction.shown_for_editing() is None  # nor carried in by the box/fix tools
    assert "unlabeled" in win.tool_dock.class_list.item(2).text()

    before = files_under(cells)
    for key in ("cell_3.png", "cell_4.png", "cell_5.png", "cell_0.png"):  # viewing only
        select(qtbot, win, key)
    after = files_under(cells)
    assert [k for k in after if after[k] != before.get(k)] == []
    assert not (cells / "masks").exists()

    for i in (0, 1):  # scribbles: a stroke in the cell, one outside; the rest stays unlabeled
        select(qtbot, win, f"cell_{i}.png")
        cx = 16 + 2 * i
        scribble(qtbot, win, 255, [(cx - 4, 20), (cx + 4, 20)])
        scribble(qtbot, win, 0, [(40, 5), (44, 35)])
    win.tools.set_tool("eraser")  # erase to unlabeled (the default), then to background
    drag(qtbot, win.canvas, [(43, 30), (43, 34)])
    assert win.session.document.mask[32, 43] == UNLABELED
    win.task_actions.eraser_background.trigger()
    drag(qtbot, win.canvas, [(20, 20), (20, 21)])
    assert win.session.document.mask[20, 20] == 0
    win.task_actions.eraser_background.setChecked(False)
    win.task_actions.eraser_unlabeled.trigger()
    select(qtbot, win, "cell_2.png")
    mask = read_mask(cells / "masks" / "cell_0.png", ws.scheme)
    assert set(np.unique(mask)) == {0, UNLABELED, 255}
    assert (mask == UNLABELED).mean() > 0.8  # sparse: most pixels nobody painted
    assert Workspace.open(cells)["cell_1.png"].state is ImageState.CORRECTED

    # fine-tune: a new model from the ImageNet encoder (a small architecture in this test)
    plan, origin = fine_tune(qtbot, win)
    assert plan.name == "cells-v1" and plan.init is None and "ImageNet" in origin
    model = win.models.active
    assert model.path == cells / ".unet-desktop" / "models" / "cells-v1.safetensors"
    assert model.meta.scheme == ws.scheme and model.meta.name == "cells-v1"
    assert model.meta.scale == "native"  # the task's scale, for its new model
    task = load_task(cells)
    assert [v.name for v in task.versions] == ["cells-v1"]
    assert task.model == "models/cells-v1.safetensors"
    assert task.versions[0].corrected_images == 2 and task.versions[0].parent is None
    qtbot.waitUntil(lambda: not win.task_banner.isVisible(), timeout=TIMEOUT_MS)
    assert win.prediction_dock.accept_button.isEnabled()

    # a second round fine-tunes cells-v1 into cells-v2; the versions list switches back
    fine_tune(qtbot, win, epochs=1)
    task = load_task(cells)
    assert [v.name for v in task.versions] == ["cells-v1", "cells-v2"]
    assert task.versions[1].parent == task.versions[0].version
    assert win.models.active.meta.scale == "native"  # a fine-tune keeps its parent's
    versions = win.task_commands.show_versions()
    assert versions.table.rowCount() == 2 and versions.table.item(0, 0).text() == "cells-v2"
    assert versions.table.item(0, 2).text() == "cells-v1"
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        versions.use_row(1)  # roll back to cells-v1
    assert win.models.active.path.name == "cells-v1.safetensors"
    assert load_task(cells).model == "models/cells-v1.safetensors"
    win.close()

    # reopening restores the classes and the task's model (not the last one opened)
    win.settings.model_path = tiny_model
    win.settings.sync()
    again = open_window(qtbot, load_model=True, ask_for_task=True)
    assert again.open_folder(cells)
    qtbot.waitUntil(lambda: again.models.active is not None, timeout=TIMEOUT_MS)
    qtbot.wait(200)  # the start-up model would have loaded by now
    assert again.models.active.path.name == "cells-v1.safetensors"
    assert again.session.workspace.scheme.names == ["outside", "cell"]
    assert again.task_commands.dialog is None and not again.task_banner.isVisible()
    again.close()


def test_a_four_class_task_with_renamed_recoloured_reordered_classes(qtbot, cells):
    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(cells)
    dialog = task_dialog(qtbot, win)
    dialog.name_edit.setText("tissue")
    dialog.kind_combo.setCurrentIndex(dialog.kind_combo.findData("multiclass"))
    editor = dialog.classes
    editor.add_class()
    editor.add_class()
    for row, name in enumerate(["background", "nucleus", "membrane", "vessel"]):
        editor.rename(row, name)
    qtbot.waitUntil(lambda: editor.table.isVisible(), timeout=TIMEOUT_MS)
    dialog.layout().activate()  # all four classes in view, none behind a scroll bar
    assert editor.table.viewport().height() >= 4 * editor.table.rowHeight(0)
    editor.set_colour(3, (250, 20, 20))
    editor.move(3, -1)  # vessel before membrane
    editor.rename(0, "nucleus")
    assert "same name" in dialog.problem_label.text()  # refused, then fixed
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    editor.rename(0, "stroma")
    dialog.accept()

    scheme = win.session.workspace.scheme
    assert scheme.kind == "multiclass" and scheme.ignore_value == 255
    assert scheme.names == ["stroma", "nucleus", "vessel", "membrane"]
    assert scheme.stored_values == (0, 1, 3, 2)  # values stay with their classes
    assert scheme.classes[2].color == (250, 20, 20)
    assert win.tool_dock.class_list.count() == 5  # four classes and unlabeled
    assert win.tools.value == 0  # a new folder paints its first class, not "unlabeled" (255)
    win.activateWindow()  # back from the dialog: the window's shortcuts answer again
    qtbot.waitUntil(win.isActiveWindow, timeout=TIMEOUT_MS)
    qtbot.keyClick(win, Qt.Key.Key_3)  # the third class: vessel
    assert win.tools.value == 3
    drag(qtbot, win.canvas, [(10, 10), (20, 10)])
    win.session.save("save")
    mask_file = cells / "masks" / f"{Path(win.session.current_key).stem}.png"
    with Image.open(mask_file) as im:
        assert im.mode == "P" and tuple(im.getpalette()[9:12]) == (250, 20, 20)
    assert set(np.unique(read_mask(mask_file, scheme))) == {3, 255}

    classes = win.task_commands.edit_classes()  # Mask > Classes...: rename keeps the masks
    classes.editor.rename(3, "cell membrane")
    classes.editor.remove_class(2)
    assert "values [3]" in classes.problem_label.text()  # masks may hold vessel
    classes.editor.set_scheme(scheme)
    classes.editor.rename(3, "cell membrane")
    classes.accept()
    assert win.session.workspace.scheme.names[3] == "cell membrane"
    assert load_task(cells).scheme.names[3] == "cell membrane"
    assert set(np.unique(read_mask(mask_file, win.session.workspace.scheme))) == {3, 255}
    win.close()


def test_training_and_batch_predict_skip_an_invalid_mask_and_name_it(qtbot, cells, tiny_model):
    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.labels import binary_scheme

    scheme = binary_scheme(("outside", "cell"), ignore_value=UNLABELED)
    save_task(cells, Task("cells", scheme))
    (cells / "masks").mkdir()
    good = np.full((H, W), UNLABELED, np.uint8)
    good[18:22, 12:20], good[2:6, 40:46] = 255, 0
    Image.fromarray(good).save(cells / "masks" / "cell_0.png")
    Image.fromarray(good).save(cells / "masks" / "cell_1.png")
    Image.fromarray(np.full((H, W), 2, np.uint8)).save(cells / "masks" / "cell_2.png")  # trimap
    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(cells)
    qtbot.wait(50)
    assert win.task_commands.dialog is None  # it has a task: nothing to ask

    win.training_commands.config_overrides = QUICK
    win.model_actions.finetune.trigger()
    dialog = win.training_commands.finetune_dialog
    dialog.epochs_spin.setValue(1)
    dialog.size_spin.setValue(32)
    dialog.val_spin.setValue(0.0)
    with qtbot.waitSignal(win.training_dock.training_finished, timeout=120_000) as done:
        dialog.accept()
    final = done.args[0]
    assert final is not None and final.model_path.name == "cells-v1.safetensors"
    skipped = win.training_dock.skipped
    assert len(skipped) == 1 and "cell_2.png" in skipped[0] and "[2]" in skipped[0]
    assert "cell_2.png" in win.training_dock.result_label.text()
    ws = win.session.workspace
    assert "cell_2.png" in ws.invalid and ws["cell_2.png"] not in ws.labelled()
    assert (cells / "masks" / "cell_2.png").read_bytes()  # left as it is
    win.close()

    from unet_desktop.ml.inference.batch_predict import batch_predict
    from unet_desktop.ml.inference.predictor import Predictor

    ws = Workspace.open(cells)
    results = [r for p in batch_predict(Predictor.from_file(final.model_path, device="cpu"), ws)
               for r in p.results]
    by_key = {r.key: r for r in results}
    assert by_key["cell_2.png"].status == "skipped"
    assert "invalid mask" in by_key["cell_2.png"].reason
    assert "cell_2.png" in by_key["cell_2.png"].reason
    assert {k for k, r in by_key.items() if r.status == "predicted"} == {
        "cell_3.png", "cell_4.png", "cell_5.png"}
    written = read_mask(cells / "masks" / "cell_3.png", ws.scheme)
    assert UNLABELED not in np.unique(written)  # predictions are fully labelled


def test_batch_predict_refuses_a_model_with_other_classes_than_the_task(cells, tiny_model):
    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.ml.inference.batch_predict import batch_predict
    from unet_desktop.ml.inference.predictor import Predictor

    save_task(cells, Task("cells", binary_scheme(ignore_value=UNLABELED)))
    with pytest.raises(ValueError, match="task"):
        list(batch_predict(Predictor.from_file(tiny_model, device="cpu"), Workspace.open(cells)))
    assert not (cells / "masks").exists()


def test_sparse_targets_mark_unlabeled_pixels_as_ignored():
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.ml.training.dataset import class_counts, make_sample

    mask = np.full((H, W), UNLABELED, np.uint8)
    mask[0, :5], mask[1, :3] = 255, 0
    sample = make_sample("a", disc_image(0), mask, binary_scheme(ignore_value=UNLABELED))
    target = sample.target.numpy()
    assert (target == IGNORE_INDEX).sum() == H * W - 8
    assert class_counts([sample], 2) == [3, 5]  # unlabeled pixels are not background


def test_with_sparse_labels_a_binary_background_is_drawn_and_unlabeled_is_not():
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.gui.editing.layers import scheme_lut

    sparse = scheme_lut(binary_scheme(ignore_value=UNLABELED))
    assert sparse[0] != 0 and sparse[UNLABELED] == 0 and sparse[255] != 0
    assert scheme_lut(binary_scheme())[0] == 0


def test_a_folder_with_masks_proposes_the_scheme_guessed_from_them(qtbot, cells):
    (cells / "masks").mkdir()
    mask = np.zeros((H, W), np.uint8)
    mask[10:20, 10:20] = 255
    Image.fromarray(mask).save(cells / "masks" / "cell_0.png")
    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(cells)
    qtbot.wait(50)
    assert win.task_commands.dialog is None  # it has masks: opening does not ask
    dialog = win.task_commands.new_task()  # File > New Task...
    assert dialog.kind_combo.currentData() == "binary"
    assert "1 mask file" in dialog.findChildren(type(dialog.problem_label))[0].text()
    dialog.reject()
    win.close()


def test_a_task_can_start_from_a_model_file_whose_classes_are_mapped_by_name(
        qtbot, cells, tiny_model):
    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(cells)
    dialog = task_dialog(qtbot, win)
    dialog.name_edit.setText("cells")
    dialog.classes.rename(1, "Foreground")  # the tiny trimap model has "foreground" too
    dialog.set_start_model(tiny_model)
    assert "Foreground ← foreground" in dialog.mapping_label.text()
    assert "background ← background" in dialog.mapping_label.text()
    with qtbot.waitSignal(win.models.model_changed, timeout=TIMEOUT_MS):
        dialog.accept()  # the start model is loaded: a trimap model, so it does not fit yet
    assert load_task(cells).start_from == str(tiny_model.resolve())
    assert win.task_banner.isVisible()
    plan, _run = win.training_commands.plan_for(win.session.workspace)
    assert plan.init == tiny_model.resolve() and plan.new_classes and plan.name == "cells-v1"
    win.close()


def test_the_file_list_shows_an_invalid_mask_as_invalid_with_the_reason_never_corrected(
        qtbot, cells):
    from unet_desktop.core.folder.task import Task, save_task
    from unet_desktop.core.labels import binary_scheme
    from unet_desktop.gui.editing.file_list_dock import STATE_ROLE

    save_task(cells, Task("cells", binary_scheme(("outside", "cell"), ignore_value=UNLABELED)))
    (cells / "masks").mkdir()
    good = np.full((H, W), UNLABELED, np.uint8)
    good[18:22, 12:20] = 255
    Image.fromarray(good).save(cells / "masks" / "cell_0.png")
    Image.fromarray(good).save(cells / "masks" / "cell_1.png")
    Image.fromarray(np.full((H, W), 2, np.uint8)).save(cells / "masks" / "cell_2.png")  # trimap
    win = open_window(qtbot)
    assert win.open_folder(cells)
    assert win.session.workspace["cell_2.png"].state is ImageState.CORRECTED  # as recorded
    dock, bad = win.file_dock, "cell_2.png"
    qtbot.waitUntil(lambda: "cannot be used" in win.statusBar().currentMessage(),
                    timeout=TIMEOUT_MS)  # the check of the folder's masks is done
    assert "cell_2.png" in win.statusBar().currentMessage()
    assert dock.row_data(bad, STATE_ROLE) == "invalid"
    tip = dock.row_data(bad, Qt.ItemDataRole.ToolTipRole)
    assert "state: invalid" in tip and "corrected" not in tip
    assert "cell_2.png" in tip and "[2]" in tip and "skipped by training" in tip
    assert dock.row_data("cell_0.png", STATE_ROLE) == "corrected"
    assert dock.count_label.text() == "6 of 6 shown, 2 corrected or verified, 1 invalid"
    dock.state_combo.setCurrentIndex(dock.state_combo.findData("corrected"))
    assert dock.visible_keys() == ["cell_0.png", "cell_1.png"]
    dock.state_combo.setCurrentIndex(dock.state_combo.findData("invalid"))
    assert dock.visible_keys() == [bad]
    dock.state_combo.setCurrentIndex(0)

    select(qtbot, win, bad)  # the user corrects it in this scheme: a usable mask again
    scribble(qtbot, win, 255, [(10, 10), (20, 10)])
    select(qtbot, win, "cell_3.png")
    assert bad not in win.session.workspace.invalid
    assert dock.row_data(bad, STATE_ROLE) == "corrected"
    assert dock.count_label.text() == "6 of 6 shown, 3 corrected or verified"
    win.close()


def test_the_task_keeps_its_models_in_the_users_models_folder_when_asked(qtbot, cells):
    from unet_desktop.core.io.paths import user_models_dir

    win = open_window(qtbot, ask_for_task=True)
    assert win.open_folder(cells)
    dialog = task_dialog(qtbot, win)
    assert dialog.folder_radio.isChecked()  # the default: with the folder
    dialog.name_edit.setText("cells")
    dialog.user_radio.setChecked(True)
    dialog.accept()
    assert load_task(cells).models_in == "user"
    plan, _run = win.training_commands.plan_for(win.session.workspace)
    assert plan.out == user_models_dir() / "cells-v1.safetensors"

    again = win.task_commands.new_task()  # File > New Task... shows the task's own choice
    assert again.user_radio.isChecked() and not again.folder_radio.isChecked()
    again.accept()
    assert load_task(cells).models_in == "user"
    win.close()
