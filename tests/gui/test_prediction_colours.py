"""A prediction of the task's classes is drawn in the task's colours (a model trained before
a recolour drew its own: predicted and painted classes in different colours)."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS
from unet_desktop.core.folder.task import Task, save_task
from unet_desktop.core.labels import multiclass_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model

SCHEME = multiclass_scheme(["road", "car", "sky"], colors=[(200, 0, 0), (0, 200, 0),
                                                            (0, 0, 200)])


def argb(rgb: tuple[int, int, int]) -> int:
    r, g, b = rgb
    return (255 << 24) | (r << 16) | (g << 8) | b


def test_a_prediction_of_the_tasks_classes_is_drawn_in_the_tasks_colours(qtbot, tmp_path):
    root = tmp_path / "streets"
    root.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(
            root / f"s{i}.png")
    save_task(root, Task("streets", SCHEME))
    torch.manual_seed(0)
    meta = ModelMeta(arch=unet_arch(3, 3, depth=2, base=4), scheme=SCHEME,
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name="streets-v1")
    model = save_model(tmp_path / "streets-v1.safetensors", build_model(meta.arch), meta) \
        or tmp_path / "streets-v1.safetensors"
    win = open_window(qtbot, model_path=model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(root)
    dialog = win.task_commands.edit_classes()  # Mask > Classes: the colours go round
    for row, rgb in enumerate([(0, 200, 0), (0, 0, 200), (200, 0, 0)]):
        dialog.editor.set_colour(row, rgb)
    dialog.accept()
    qtbot.waitUntil(lambda: win.prediction.shown is not None
                    and win.session.workspace.scheme.classes[1].color == (0, 0, 200),
                    timeout=TIMEOUT_MS)
    win.prediction_dock.outline_check.setChecked(False)  # the prediction filled in
    win.file_dock.select_key("s1.png")
    qtbot.waitUntil(lambda: win.prediction.shown is not None
                    and win.prediction.shown.key == "s1.png", timeout=TIMEOUT_MS)
    labels = win.prediction.shown.prediction.labels
    drawn = win.canvas.prediction_layer.pixels_argb()
    task = win.session.workspace.scheme
    checked = 0
    for c in task.classes:
        where = (labels == c.value) & (drawn != 0)
        if where.any():
            assert set(np.unique(drawn[where])) == {argb(c.color)}, c.name
            checked += 1
    assert checked >= 1 and win.canvas.prediction_layer.outline_only is False
    win.close()
