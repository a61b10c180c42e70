"""New Task refused to start from the user's own model file when that model takes a channel of
the folder's 2-channel images ('a task that starts from a model file takes gray or RGB images;
start from the ImageNet-pretrained encoder'), though the model takes that channel and a task made
for a fine-tune (ensure_task) starts from such a model with its channels. Now a task from a model
file takes the model's channels (they decide the images listed), and is refused only when those
fit no image, naming the channels the model takes."""

from __future__ import annotations

import numpy as np
import tifffile

from tests.gui.conftest import open_window
from unet_desktop.core.labels import binary_scheme
from unet_desktop.ml.models.architecture import build_model, unet_arch
from unet_desktop.ml.models.modelfile import ModelMeta, new_version_id, save_model


def two_channel_folder(root):
    root.mkdir()
    rng = np.random.default_rng(0)
    for name in ("t0.tif", "t1.tif"):
        tifffile.imwrite(root / name, rng.integers(0, 4000, (32, 40, 2), dtype=np.uint16),
                         photometric="minisblack", planarconfig="contig")
    return root


def model_taking(path, channels):
    """A tiny binary model file whose input rule takes ``channels`` (0-based; None: gray or
    RGB as stored)."""
    rule = {"kind": "data-range", **({"channels": list(channels)} if channels else {})}
    meta = ModelMeta(arch=unet_arch(3, 2, depth=2, base=4), scheme=binary_scheme(),
                     normalization={"mean": [0.5] * 3, "std": [0.25] * 3}, train_size=32,
                     version=new_version_id(), name=path.stem, input_rule=rule)
    save_model(path, build_model(meta.arch), meta)
    return path


def _ok(dialog) -> bool:
    return dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()


def test_a_task_starts_from_a_model_that_takes_a_channel_of_the_images(qtbot, tmp_path):
    root = two_channel_folder(tmp_path / "nuclei")
    model = model_taking(tmp_path / "mine.safetensors", (1,))  # channel 2, not the proposed 1
    win = open_window(qtbot)
    assert win.open_folder(root)
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    dialog.set_start_model(model)
    assert dialog.problem_label.text() == "" and _ok(dialog)
    dialog.accept()
    task = win.session.workspace.task
    assert task.start_from == str(model.resolve()) and task.input_rule["channels"] == [1]
    assert len(win.session.workspace) == 2 and not win.session.workspace.skipped
    win.close()


def test_a_model_whose_channels_fit_no_image_is_refused_saying_what_it_takes(qtbot, tmp_path):
    root = two_channel_folder(tmp_path / "nuclei")
    win = open_window(qtbot)
    assert win.open_folder(root)
    dialog = win.task_commands.new_task()
    dialog.name_edit.setText("nuclei")
    dialog.set_start_model(model_taking(tmp_path / "third.safetensors", (2,)))
    assert not _ok(dialog)
    assert ("t0.tif has 2 channels, and the model file takes channel(s) 3"
            in dialog.problem_label.text())
    dialog.set_start_model(model_taking(tmp_path / "rgb.safetensors", None))
    assert not _ok(dialog)
    assert "the model file takes gray or RGB images" in dialog.problem_label.text()
    win.close()
