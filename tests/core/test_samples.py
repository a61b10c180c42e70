from __future__ import annotations

from unet_desktop.core.folder.samples import sample_workspace
from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.io.paths import samples_dir
from unet_desktop.core.labels import trimap_scheme


def test_first_start_copies_the_samples_into_user_data_and_they_open(_isolated_user_dirs):
    folder = sample_workspace()
    assert folder.is_relative_to(_isolated_user_dirs)
    shipped = sorted(p.name for p in samples_dir().glob("*.jpg"))
    assert len(shipped) >= 5
    ws = Workspace.open(folder)
    assert sorted(e.image_path.name for e in ws.entries) == shipped
    assert ws.layout == "flat" and not ws.skipped
    assert ws.scheme.kind == "trimap"  # like the default model, not the binary of a bare folder
    # A task with the default model's classes: the first start does not ask what is labelled.
    assert ws.task is not None and ws.task.scheme.same_classes(trimap_scheme())
    assert ws.task.model is None  # the window's start-up model (the default) stays in use


def test_later_starts_keep_what_the_user_did(_isolated_user_dirs):
    folder = sample_workspace()
    removed = min(folder.glob("*.jpg"))
    removed.unlink()
    (folder / "masks").mkdir()
    (folder / "masks" / "note.txt").write_text("mine")
    assert sample_workspace() == folder
    assert not removed.exists()
    assert (folder / "masks" / "note.txt").read_text() == "mine"
