"""An image whose file name is not UTF-8 (Latin-1 bytes from an old zip): the session's signals
carried its key as a Qt string, which drops the bytes ``os.fsdecode`` could not decode, so the
status bar said 'Saved images/Mller_01.png' (a letter missing, naming no file of the folder) and
every listener (the learning loop, the file list) got a key that is not the image's; the model's
prediction of such an image never showed (it came back under another key). The keys travel as
Python objects now, and the window shows those bytes as Latin-1 letters."""

from __future__ import annotations

from types import SimpleNamespace

from tests.gui.conftest import open_window
from tests.gui.conftest_model import TIMEOUT_MS, make_model_file
from tests.gui.helpers import drag
from tests.gui.test_file_names_not_utf8 import make_folder
from unet_desktop.gui.model.batch_predict_dialog import BatchPredictDialog


def test_saved_and_autosaved_name_the_image_not_utf8(qtbot, tmp_path):
    root = tmp_path / "old zip"
    key = make_folder(root)[0]  # 'images/M\udcfcller_01.png'
    win = open_window(qtbot)
    assert win.open_folder(root)
    heard: list[tuple[str, object]] = []
    win.session.entry_changed.connect(lambda k: heard.append(("entry_changed", k)))
    win.session.autosaved.connect(lambda k: heard.append(("autosaved", k)))
    win.session.saved.connect(lambda k, _reason: heard.append(("saved", k)))
    assert win.file_dock.select_key(key)
    win.tools.set_tool("brush")
    win.tools.set_value(255)
    win.tools.set_size(3)
    drag(qtbot, win.canvas, [(10, 20), (20, 20)])
    assert win.session.autosave_now()
    assert win.statusBar().currentMessage() == "Autosaved images/Müller_01.png"
    assert win.session.save()
    assert win.statusBar().currentMessage() == "Saved images/Müller_01.png"
    assert {name for name, _ in heard} == {"entry_changed", "autosaved", "saved"}
    assert all(k == key for _, k in heard), heard
    win.session.error.emit(f"Could not save the mask: {root / key}: disk full")
    assert "images/Müller_01.png: disk full" in win.statusBar().currentMessage()
    win.close()


def test_a_batch_run_names_the_masks_it_wrote_by_their_keys(qtbot):
    models = SimpleNamespace(mode="resize", tta=False, device_name="cpu",
                             model_changed=SimpleNamespace(connect=lambda slot: None),
                             active=None)
    dialog = BatchPredictDialog(models)
    qtbot.addWidget(dialog)
    written: list[object] = []
    dialog.masks_written.connect(written.append)
    key = "images/M\udcfcller_01.png"
    result = SimpleNamespace(key=key, image_path=f"/data/{key}", status="predicted",
                             output=None, reason="")
    dialog._on_progress(SimpleNamespace(total=1, done=1, elapsed_s=0.1, finished=True,
                                        cancelled=False, results=[result]))
    assert written == [[key]]


def test_the_prediction_of_an_image_not_utf8_is_shown(qtbot, tmp_path):
    keys = make_folder(tmp_path / "old zip")
    model = make_model_file(tmp_path / "models" / "tiny.safetensors")
    win = open_window(qtbot, model_path=model)
    qtbot.waitUntil(lambda: win.models.active is not None, timeout=TIMEOUT_MS)
    assert win.open_folder(tmp_path / "old zip")
    shown: list[object] = []
    win.prediction.prediction_shown.connect(shown.append)
    for key in keys:
        assert win.file_dock.select_key(key)
        qtbot.waitUntil(lambda: key in shown, timeout=TIMEOUT_MS)  # noqa: B023 - waited here
        assert win.prediction.shown is not None and win.prediction.shown.key == key
    win.close()


def test_the_file_list_and_mask_check_hear_the_whole_key(qtbot, tmp_path):
    """Two more signals carried keys as Qt strings: the rows a batch run wrote
    (TrainingCommands.entry_changed) and a mask found unusable (MaskCheck.invalid_found)."""
    root = tmp_path / "old zip"
    key = make_folder(root)[0]
    win = open_window(qtbot)
    assert win.open_folder(root)
    heard = []
    win.training_commands.entry_changed.connect(heard.append)
    win.mask_check.invalid_found.connect(heard.append)
    win.training_commands.entry_changed.emit(key)
    win.mask_check.invalid_found.emit(key)
    assert heard == [key, key]
