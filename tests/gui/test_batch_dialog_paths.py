"""Batch Predict: a relative output folder is taken inside the folder of images (it went to the
directory the app was started from, a desktop launcher's $HOME or /, and the dialog showed only
'predictions/img_00.png'), and the summary names the folder the masks went to."""
# ruff: noqa: F811 - pytest fixtures imported from conftest_model are redefined as arguments

from __future__ import annotations

from tests.gui.conftest_model import (  # noqa: F401 - fixtures are used by name
    TIMEOUT_MS,
    make_pets,
    model_worker,
    models,
    tiny_model,
)
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.gui.model.batch_predict_dialog import BatchPredictDialog


def run_to_end(qtbot, dialog):
    with qtbot.waitSignal(dialog.run_finished, timeout=TIMEOUT_MS) as done:
        assert dialog.start() is not None
    return done.args[0]


def dialog_on(qtbot, models, root, output: str) -> BatchPredictDialog:
    dialog = BatchPredictDialog(models, Workspace.open(root))
    qtbot.addWidget(dialog)
    dialog.output_edit.setText(output)
    return dialog


def test_a_relative_output_folder_is_inside_the_folder_of_images(qtbot, models, tmp_path,
                                                                 monkeypatch):
    root = make_pets(tmp_path / "my data" / "pets", 3, 0)
    started_in = tmp_path / "where the app was started"
    started_in.mkdir()
    monkeypatch.chdir(started_in)
    summary = run_to_end(qtbot, dialog_on(qtbot, models, root, "predictions"))
    out = root / "predictions"
    assert sorted(p.name for p in out.glob("*.png")) == ["img_00.png", "img_01.png", "img_02.png"]
    assert list(started_in.iterdir()) == []
    assert summary.headline().endswith(f"; masks in {out}")
    assert all(path.startswith(str(out)) for _key, path in summary.written)


def test_the_folders_own_mask_folder_typed_relative_is_recognised(qtbot, models, tmp_path,
                                                                  monkeypatch):
    root = make_pets(tmp_path / "pets", 3, 1)
    monkeypatch.chdir(tmp_path)
    summary = run_to_end(qtbot, dialog_on(qtbot, models, root, "annotations/trimaps"))
    assert "is the mask folder of the images' own folder" in summary.error
    assert not (tmp_path / "annotations").exists()


def test_a_relative_folder_without_an_open_folder_is_refused(qtbot, models, tmp_path,
                                                             monkeypatch):
    make_pets(tmp_path / "pets", 2, 0)
    monkeypatch.chdir(tmp_path)
    dialog = BatchPredictDialog(models, None)
    qtbot.addWidget(dialog)
    dialog.folder_edit.setText("pets")
    assert dialog.start() is None
    assert "type the folder's full path" in dialog.status_label.text()
