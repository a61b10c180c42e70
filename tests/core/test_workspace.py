from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unet_desktop.core.errors import FileError, MaskError
from unet_desktop.core.folder.manifest import (
    MANIFEST_DIR,
    journal_path,
    load_manifest,
    manifest_path,
)
from unet_desktop.core.folder.workspace import ImageEntry, ImageState, Workspace
from unet_desktop.core.io.maskio import read_mask
from unet_desktop.core.labels import binary_scheme, camvid_scheme, trimap_scheme

S = ImageState


def touch(path: Path, data: bytes = b"") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def png(path: Path, values: np.ndarray, mode: str = "L") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(values.astype(np.uint8), mode).save(path)
    return path


BIN = np.array([[0, 255], [255, 0]], dtype=np.uint8)


def states(ws: Workspace) -> dict[str, ImageState]:
    return {e.key: e.state for e in ws}


# --- layouts -------------------------------------------------------------------------------------
def test_oxford_layout_pairs_trimaps_and_reports_non_images(tmp_path):
    touch(tmp_path / "images/a.jpg")
    touch(tmp_path / "images/b.jpg")
    touch(tmp_path / "images/b.mat")
    touch(tmp_path / "images/.DS_Store")
    touch(tmp_path / "annotations/list.txt", b"a 1 1 1\nzzz_not_here 1 1 1\n")
    png(tmp_path / "annotations/trimaps/a.png", np.array([[1, 2], [3, 1]]))

    ws = Workspace.open(tmp_path)
    assert ws.layout == "oxford" and ws.scheme.kind == "trimap"
    assert [e.key for e in ws] == ["images/a.jpg", "images/b.jpg"]
    assert ws["images/a.jpg"].mask_path == tmp_path / "annotations/trimaps/a.png"
    assert ws["images/b.jpg"].mask_path == tmp_path / "annotations/trimaps/b.png"
    assert states(ws) == {"images/a.jpg": S.CORRECTED, "images/b.jpg": S.UNLABELED}
    assert [(p.name, "not an image" in r) for p, r in ws.skipped] == [("b.mat", True)]
    assert not manifest_path(tmp_path).exists()  # opening writes nothing


def test_generic_layout_matches_any_mask_extension_and_prefers_png(tmp_path):
    for name in ("a.jpg", "b.png", "c.tif", "d.jpeg"):
        touch(tmp_path / "images" / name)
    png(tmp_path / "masks/a.gif", BIN)
    png(tmp_path / "masks/b.tif", BIN)
    png(tmp_path / "masks/c.bmp", BIN)
    png(tmp_path / "masks/c.png", BIN)
    png(tmp_path / "masks/orphan.png", BIN)

    ws = Workspace.open(tmp_path)
    assert ws.layout == "generic" and ws.scheme.kind == "binary"
    masks = {e.key: e.mask_path.name for e in ws}
    assert masks == {"images/a.jpg": "a.gif", "images/b.png": "b.tif",
                     "images/c.tif": "c.png", "images/d.jpeg": "d.png"}
    assert ws["images/d.jpeg"].state is S.UNLABELED
    assert any("1 mask file(s)" in w for w in ws.warnings)


def test_images_folder_without_masks_folder_writes_to_masks(tmp_path):
    touch(tmp_path / "images/a.png")
    ws = Workspace.open(tmp_path)
    assert ws.layout == "generic" and ws.scheme == binary_scheme()
    assert ws["images/a.png"].mask_path == tmp_path / "masks/a.png"


def test_suffix_layout_in_masks_folder(tmp_path):
    touch(tmp_path / "images/car_01.jpg")
    touch(tmp_path / "images/car_02.jpg")
    png(tmp_path / "masks/car_01_mask.gif", np.array([[0, 1], [1, 0]]))

    ws = Workspace.open(tmp_path)
    assert ws.layout == "suffix" and ws.scheme.kind == "binary"
    assert ws["images/car_01.jpg"].mask_path.name == "car_01_mask.gif"
    assert ws["images/car_02.jpg"].mask_path == tmp_path / "masks/car_02_mask.png"


def test_suffix_layout_beside_the_images(tmp_path):
    touch(tmp_path / "a.jpg")
    touch(tmp_path / "b.jpg")
    png(tmp_path / "a_mask.png", BIN)

    ws = Workspace.open(tmp_path)
    assert ws.layout == "suffix" and ws.mask_dir == tmp_path
    assert [e.key for e in ws] == ["a.jpg", "b.jpg"]
    assert ws["a.jpg"].mask_path == tmp_path / "a_mask.png" and ws["a.jpg"].has_mask
    assert ws["b.jpg"].mask_path == tmp_path / "b_mask.png"
    assert ws.skipped == []


def test_flat_layout_writes_masks_beside_and_reopens_as_flat(tmp_path):
    png(tmp_path / "x.png", np.zeros((4, 4)))
    touch(tmp_path / "y.jpg")
    touch(tmp_path / "notes.txt")
    (tmp_path / "sub").mkdir()

    ws = Workspace.open(tmp_path)
    assert ws.layout == "flat"
    assert ws["x.png"].mask_path == tmp_path / "masks/x.png"
    assert [p.name for p, _ in ws.skipped] == ["notes.txt"]
    assert ws.load_image("x.png").shape == (4, 4)
    assert ws.load_mask("x.png") is None
    ws.save_mask("x.png", np.full((4, 4), 255, np.uint8), S.CORRECTED)

    again = Workspace.open(tmp_path)
    assert again.layout == "flat" and again["x.png"].state is S.CORRECTED
    assert again.load_mask("x.png").min() == 255


def test_same_stem_images_are_reported_not_paired_to_one_mask(tmp_path):
    for name in ("a.jpg", "a.png", "A.bmp", "b.png"):
        touch(tmp_path / "images" / name)
    ws = Workspace.open(tmp_path)
    kept = [e.key for e in ws]
    assert len(kept) == 2 and "images/b.png" in kept
    mask_names = [e.mask_path.name.casefold() for e in ws]
    assert len(set(mask_names)) == len(mask_names)
    collided = [p.name for p, r in ws.skipped if "collide" in r]
    assert len(collided) == 2
    assert any("2 image(s)" in w for w in ws.warnings)


def test_open_a_file_or_missing_folder_is_a_file_error(tmp_path):
    f = touch(tmp_path / "a.png")
    with pytest.raises(FileError, match="not a folder"):
        Workspace.open(f)
    with pytest.raises(FileError, match="not a folder"):
        Workspace.open(tmp_path / "missing")


def test_lookup_by_index_key_and_unknown_key(tmp_path):
    for name in ("b.png", "a.png"):
        touch(tmp_path / name)
    ws = Workspace.open(tmp_path)
    assert len(ws) == 2 and ws[0].key == "a.png" and ws["b.png"] is ws[1]
    assert "a.png" in ws and ws.index_of("b.png") == 1
    with pytest.raises(KeyError, match="nope.png"):
        ws["nope.png"]


# --- scheme ------------------------------------------------------------------------------------
def test_scheme_guessed_from_one_mask_given_or_from_manifest(tmp_path):
    touch(tmp_path / "images/a.png")
    png(tmp_path / "masks/a.png", np.array([[0, 3], [4, 1]]))
    ws = Workspace.open(tmp_path)
    assert ws.scheme.kind == "multiclass" and ws.scheme.num_classes == 5
    ws.set_state("images/a.png", S.VERIFIED)  # writes the manifest with the guessed scheme

    given = Workspace.open(tmp_path, scheme=camvid_scheme())
    assert given.scheme == camvid_scheme()
    assert any("replaces the manifest's" in w for w in given.warnings)
    assert Workspace.open(tmp_path).scheme.num_classes == 5  # the manifest's, not re-guessed


def test_default_scheme_applies_only_when_the_folder_says_nothing(tmp_path):
    touch(tmp_path / "images/a.png")
    assert Workspace.open(tmp_path).scheme == binary_scheme()
    assert Workspace.open(tmp_path, default_scheme=trimap_scheme()).scheme == trimap_scheme()
    png(tmp_path / "masks/a.png", np.array([[0, 255], [255, 0]]))
    assert Workspace.open(tmp_path, default_scheme=trimap_scheme()).scheme.kind == "binary"


def test_model_scheme_is_read_from_the_file_header_without_torch(tmp_path):
    import subprocess
    import sys

    from unet_desktop.core.io.model_header import model_scheme
    from unet_desktop.core.io.paths import default_model_path

    assert model_scheme(default_model_path()) == trimap_scheme()
    assert model_scheme(touch(tmp_path / "junk.safetensors", b"\xff" * 20)) is None
    assert model_scheme(tmp_path / "missing.safetensors") is None
    code = ("import sys; from unet_desktop.core.io.model_header import model_scheme; "
            f"model_scheme({str(default_model_path())!r}); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unreadable_sample_mask_falls_back_to_binary_with_warning(tmp_path):
    touch(tmp_path / "images/a.png")
    touch(tmp_path / "masks/a.png", b"not a png")
    ws = Workspace.open(tmp_path)
    assert ws.scheme == binary_scheme()
    assert any("could not guess" in w and "a.png" in w for w in ws.warnings)


# --- states and persistence -----------------------------------------------------------------------
def test_state_transitions_persist_across_reopen(tmp_path):
    for name in ("a.png", "b.png", "c.png"):
        touch(tmp_path / "images" / name)
    ws = Workspace.open(tmp_path, scheme=trimap_scheme())
    trimap = np.array([[1, 2], [3, 2]], dtype=np.uint8)

    written = ws.save_mask("images/a.png", trimap, S.PREDICTED, model_version="v1",
                           uncertainty=0.4)
    assert written == tmp_path / "masks/a.png"
    ws.save_mask("images/b.png", trimap, S.PREDICTED, model_version="v1", uncertainty=0.9)
    ws.save_mask("images/b.png", trimap, S.CORRECTED)  # keeps version and score
    ws.set_state("images/b.png", S.VERIFIED)
    with pytest.raises(ValueError, match="no mask"):
        ws.set_state("images/c.png", S.VERIFIED)
    with pytest.raises(ValueError, match="has a mask"):
        ws.set_state("images/a.png", S.UNLABELED)
    with pytest.raises(ValueError, match="unlabeled"):
        ws.save_mask("images/c.png", trimap, S.UNLABELED)
    ws.set_state("images/c.png", S.UNLABELED, uncertainty=0.7)  # a score without a mask

    again = Workspace.open(tmp_path)
    assert again.scheme == trimap_scheme() and again.warnings == []
    assert again["images/a.png"] == ImageEntry("images/a.png", tmp_path / "images/a.png",
                                               tmp_path / "masks/a.png", S.PREDICTED, "v1", 0.4)
    b = again["images/b.png"]
    assert (b.state, b.model_version, b.uncertainty) == (S.VERIFIED, "v1", 0.9)
    assert again["images/c.png"].uncertainty == 0.7
    assert [e.key for e in again.labelled()] == ["images/b.png"]
    assert [e.key for e in again.labelled([S.PREDICTED])] == ["images/a.png"]
    assert again.counts()[S.UNLABELED] == 1
    np.testing.assert_array_equal(again.load_mask("images/a.png"), trimap)


@pytest.mark.reliability("disk", "missing manifest rebuilt from the mask files")
def test_missing_manifest_rebuilds_states_from_mask_files(tmp_path):
    touch(tmp_path / "images/a.png")
    touch(tmp_path / "images/b.png")
    png(tmp_path / "masks/a.png", BIN)
    ws = Workspace.open(tmp_path)
    assert states(ws) == {"images/a.png": S.CORRECTED, "images/b.png": S.UNLABELED}
    assert ws.warnings == []


@pytest.mark.parametrize("content", [
    b"{truncated",
    json.dumps({"format": "unet-desktop-manifest", "version": 1, "scheme": None,
                "entries": {"images/a.png": {"state": "done", "uncertainty": "x"}}}).encode(),
])
@pytest.mark.reliability("disk", "corrupt manifest kept aside and rebuilt")
def test_corrupt_manifest_is_kept_aside_and_states_rebuilt(tmp_path, content):
    touch(tmp_path / "images/a.png")
    png(tmp_path / "masks/a.png", BIN)
    touch(manifest_path(tmp_path), content)

    ws = Workspace.open(tmp_path)
    assert states(ws) == {"images/a.png": S.CORRECTED}
    assert any("manifest ignored" in w and "corrupt-" in w for w in ws.warnings)
    kept = [p for p in (tmp_path / MANIFEST_DIR).iterdir() if ".corrupt-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == content
    ws.set_state("images/a.png", S.VERIFIED)
    assert Workspace.open(tmp_path)["images/a.png"].state is S.VERIFIED


def test_manifest_reconciled_with_files_on_disk(tmp_path):
    for name in ("a.png", "b.png", "c.png", "gone.png"):
        touch(tmp_path / "images" / name)
    ws = Workspace.open(tmp_path, scheme=binary_scheme())
    for key in ("images/a.png", "images/gone.png"):
        ws.save_mask(key, BIN, S.VERIFIED, model_version="v2")
    (tmp_path / "images/gone.png").unlink()
    (tmp_path / "masks/a.png").unlink()  # verified mask deleted by hand
    png(tmp_path / "masks/c.png", BIN)  # mask dropped in from elsewhere

    again = Workspace.open(tmp_path)
    assert states(again) == {"images/a.png": S.UNLABELED, "images/b.png": S.UNLABELED,
                             "images/c.png": S.CORRECTED}
    assert again["images/a.png"].model_version is None
    assert any("no mask file any more" in w for w in again.warnings)
    assert any("1 image(s) recorded in the manifest are not in the folder (images/gone.png)" in w
               for w in again.warnings)  # its state is kept for when it comes back
    again.save_manifest()
    saved = json.loads(manifest_path(tmp_path).read_text(encoding="utf-8"))
    assert sorted(saved["entries"]) == ["images/a.png", "images/b.png", "images/c.png",
                                        "images/gone.png"]


def test_deferred_manifest_writes_once_at_the_end(tmp_path):
    for i in range(3):
        touch(tmp_path / f"{i}.png")
    ws = Workspace.open(tmp_path, scheme=binary_scheme())
    with ws.deferred_manifest():
        for e in ws:
            ws.save_mask(e.key, BIN, S.PREDICTED, model_version="v1")
        assert not manifest_path(tmp_path).exists()
    assert states(Workspace.open(tmp_path)) == dict.fromkeys(["0.png", "1.png", "2.png"],
                                                             S.PREDICTED)


def test_non_png_original_mask_is_kept_and_png_wins_on_reopen(tmp_path):
    touch(tmp_path / "images/car.jpg")
    gif = png(tmp_path / "masks/car_mask.gif", np.array([[0, 1], [1, 1]]))
    before = gif.read_bytes()
    ws = Workspace.open(tmp_path)
    written = ws.save_mask("images/car.jpg", np.zeros((2, 2), np.uint8), S.CORRECTED)
    assert written == tmp_path / "masks/car_mask.png" and gif.read_bytes() == before
    again = Workspace.open(tmp_path)
    assert again["images/car.jpg"].mask_path == written
    assert again.load_mask("images/car.jpg").max() == 0


# --- the manifest's journal ---------------------------------------------------------------------
def _four_images(root: Path) -> Workspace:
    for name in ("a.png", "b.png", "c.png", "d.png"):
        touch(root / "images" / name)
    return Workspace.open(root, scheme=binary_scheme())


@pytest.mark.reliability("process", "workspace: masks written, process killed before the "
                                    "manifest update")
def test_masks_saved_before_a_crash_reopen_with_their_journalled_state(tmp_path):
    ws = _four_images(tmp_path)
    ws.save_mask("images/a.png", BIN, S.CORRECTED)
    assert not journal_path(tmp_path).exists()  # an undeferred save folds its line at once
    with ws.deferred_manifest():
        ws.save_mask("images/b.png", BIN, S.PREDICTED, model_version="v1", uncertainty=0.25)
        ws.save_mask("images/c.png", BIN, S.PREDICTED, model_version="v1", uncertainty=0.5)
        assert journal_path(tmp_path).exists()
        on_disk = load_manifest(manifest_path(tmp_path)).records
        assert "images/b.png" not in on_disk or on_disk["images/b.png"].state is S.UNLABELED

        again = Workspace.open(tmp_path)  # what a process opening it after a kill here sees
        assert states(again) == {"images/a.png": S.CORRECTED, "images/b.png": S.PREDICTED,
                                 "images/c.png": S.PREDICTED, "images/d.png": S.UNLABELED}
        assert (again["images/b.png"].model_version, again["images/b.png"].uncertainty) == (
            "v1", 0.25)
        assert any("recovered from the manifest's journal" in w for w in again.warnings)
        assert not journal_path(tmp_path).exists()  # folded into the manifest on opening
        folded = load_manifest(manifest_path(tmp_path)).records
        assert folded["images/c.png"].state is S.PREDICTED
    assert Workspace.open(tmp_path).warnings == []


def test_a_journal_line_whose_mask_was_never_written_is_ignored(tmp_path, monkeypatch):
    png(tmp_path / "masks/a.png", BIN)  # the user's own mask: corrected
    ws = _four_images(tmp_path)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("unet_desktop.core.io.maskio.write_mask", disk_full)
    for key in ("images/a.png", "images/b.png"):
        with pytest.raises(MaskError, match="No space left"):
            ws.save_mask(key, BIN, S.PREDICTED, model_version="v1")
    assert len(journal_path(tmp_path).read_text().splitlines()) == 3  # header and two lines
    again = Workspace.open(tmp_path)
    assert states(again)["images/a.png"] is S.CORRECTED
    assert again["images/a.png"].model_version is None
    assert states(again)["images/b.png"] is S.UNLABELED
    assert again.warnings == []


def test_a_journal_left_behind_after_its_fold_is_not_replayed(tmp_path):
    ws = _four_images(tmp_path)
    with ws.deferred_manifest():
        ws.save_mask("images/b.png", BIN, S.PREDICTED, model_version="v1")
        left = journal_path(tmp_path).read_bytes()
    ws.set_state("images/b.png", S.VERIFIED)
    journal_path(tmp_path).write_bytes(left)  # killed between the manifest and the deletion
    again = Workspace.open(tmp_path)
    assert states(again)["images/b.png"] is S.VERIFIED and again.warnings == []


def test_set_state_inside_a_deferred_block_is_written_at_once(tmp_path):
    ws = _four_images(tmp_path)
    with ws.deferred_manifest():
        ws.save_mask("images/b.png", BIN, S.PREDICTED, model_version="v1")
        ws.set_state("images/b.png", S.VERIFIED)
        assert load_manifest(manifest_path(tmp_path)).records["images/b.png"].state is S.VERIFIED
        assert not journal_path(tmp_path).exists()


@pytest.mark.reliability("disk", "manifest journal cannot be written: the mask is not either")
def test_a_save_that_cannot_be_journalled_writes_no_mask(tmp_path):
    ws = _four_images(tmp_path)
    touch(tmp_path / MANIFEST_DIR, b"a file where the folder should be")
    with pytest.raises(MaskError, match="cannot record the save") as info:
        ws.save_mask("images/a.png", BIN, S.PREDICTED, model_version="v1")
    assert info.value.path == str(tmp_path / "masks/a.png")
    assert not (tmp_path / "masks/a.png").exists() and ws["images/a.png"].state is S.UNLABELED


# --- read-only folders ---------------------------------------------------------------------------
@pytest.fixture
def read_only_folder(tmp_path):
    touch(tmp_path / "images/a.png")
    png(tmp_path / "masks/a.png", BIN)
    touch(tmp_path / "images/b.png")
    folders = [tmp_path / "masks", tmp_path / "images", tmp_path]
    for f in folders:
        f.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    yield tmp_path
    for f in reversed(folders):
        f.chmod(stat.S_IRWXU)


@pytest.mark.reliability("disk", "read-only workspace folder")
def test_read_only_folder_opens_and_refuses_to_save(read_only_folder):
    ws = Workspace.open(read_only_folder)
    assert ws.read_only and any("read-only" in w for w in ws.warnings)
    assert states(ws) == {"images/a.png": S.CORRECTED, "images/b.png": S.UNLABELED}
    ws.set_state("images/a.png", S.VERIFIED)  # kept in memory
    assert ws["images/a.png"].state is S.VERIFIED
    with pytest.raises(MaskError, match="read-only") as info:
        ws.save_mask("images/b.png", BIN, S.CORRECTED)
    assert info.value.path == str(read_only_folder / "masks/b.png")
    with pytest.raises(FileError, match="read-only"):
        ws.save_manifest()
    assert sorted(os.listdir(read_only_folder)) == ["images", "masks"]


@pytest.mark.reliability("disk", "corrupt manifest in a read-only folder")
def test_corrupt_manifest_in_read_only_folder_is_left_in_place(tmp_path):
    touch(tmp_path / "a.png")
    bad = touch(manifest_path(tmp_path), b"{oops")
    folders = [bad.parent, tmp_path]
    for f in folders:
        f.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        ws = Workspace.open(tmp_path)
        assert ws.read_only and states(ws) == {"a.png": S.UNLABELED}
        assert any("manifest ignored" in w for w in ws.warnings)
        assert os.listdir(bad.parent) == ["manifest.json"]
    finally:
        for f in folders:
            f.chmod(stat.S_IRWXU)


# --- path safety ---------------------------------------------------------------------------------
@pytest.mark.reliability("paths", "image names with spaces, unicode, .., backslash, -rf")
@pytest.mark.parametrize("name", ["with space.png", "ünïcødé 画像.png", "x..png", "-rf.png",
                                  "a..b.png", "back\\slash.png"])
def test_odd_names_write_inside_the_mask_folder(tmp_path, name):
    touch(tmp_path / "images" / name)
    ws = Workspace.open(tmp_path, scheme=binary_scheme())
    written = ws.save_mask(f"images/{name}", BIN, S.CORRECTED)
    assert written.parent == tmp_path / "masks"
    assert os.listdir(tmp_path / "masks") == [written.name]
    np.testing.assert_array_equal(read_mask(written, binary_scheme()), BIN)


@pytest.mark.reliability("paths", "keys with .., absolute paths, other folders")
@pytest.mark.parametrize("key", ["../a.png", "/etc/passwd", "masks/a.png", "images/../a.png"])
def test_keys_that_name_no_scanned_image_are_refused(tmp_path, key):
    touch(tmp_path / "images/a.png")
    ws = Workspace.open(tmp_path, scheme=binary_scheme())
    with pytest.raises(KeyError):
        ws.save_mask(key, BIN, S.CORRECTED)
    assert not (tmp_path / "masks").exists()


@pytest.mark.reliability("paths", "mask file symlinked outside the mask folder")
def test_mask_symlink_pointing_outside_is_refused(tmp_path):
    outside = png(tmp_path / "outside/secret.png", BIN)
    before = outside.read_bytes()
    root = tmp_path / "ws"
    touch(root / "images/a.png")
    (root / "masks").mkdir()
    (root / "masks/a.png").symlink_to(outside)
    ws = Workspace.open(root)
    with pytest.raises(MaskError, match="outside the mask folder"):
        ws.save_mask("images/a.png", np.zeros((2, 2), np.uint8), S.CORRECTED)
    assert outside.read_bytes() == before


@pytest.mark.reliability("paths", "mask folder symlinked outside the workspace")
def test_mask_folder_symlinked_outside_the_workspace_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    root = tmp_path / "ws"
    touch(root / "a.png")
    (root / "masks").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    ws = Workspace.open(root, scheme=binary_scheme())
    with pytest.raises(MaskError, match="outside the workspace"):
        ws.save_mask("a.png", BIN, S.CORRECTED)
    assert os.listdir(tmp_path / "elsewhere") == []


def test_a_flat_folders_subfolders_of_images_are_named_not_dropped_in_silence(tmp_path):
    """Images kept in one subfolder per condition (ctrl/, treated/) are not scanned: each such
    subfolder is reported with its image count; the mask folder and empty ones are not."""
    from unet_desktop.core.folder.workspace import Workspace

    for sub in ("ctrl", "treated"):
        (tmp_path / sub).mkdir()
        for i in range(2 if sub == "ctrl" else 3):
            Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / sub / f"img{i}.png")
    (tmp_path / "notes").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "top.png")
    ws = Workspace.open(tmp_path)
    assert [e.key for e in ws] == ["top.png"]
    said = {p.name: why for p, why in ws.skipped}
    assert said == {"ctrl": "folder of 2 image(s): subfolders are not scanned (open it on its "
                            "own)",
                    "treated": "folder of 3 image(s): subfolders are not scanned (open it on "
                               "its own)"}
