"""The four real data sets open with the right layout and every image paired with its mask."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from unet_desktop.core.folder.workspace import ImageState, Workspace

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"

# folder, layout, image count, scheme kind, mask name for image stem "s"
SETS = [
    ("pets", "oxford", 600, "trimap", "{}.png"),
    ("carvana", "suffix", 96, "binary", "{}_mask.gif"),
    ("camvid/train", "generic", 367, "multiclass", "{}.png"),
    ("isbi2012", "generic", 20, "binary", "{}.png"),
]


@pytest.mark.parametrize("folder, layout, count, kind, mask_name", SETS)
def test_real_set_opens_with_every_pair_matched(folder, layout, count, kind, mask_name):
    root = DATA / folder
    ws = Workspace.open(root)
    assert (ws.layout, len(ws), ws.scheme.kind) == (layout, count, kind)
    for entry in ws:
        assert entry.state is ImageState.CORRECTED
        assert entry.mask_path.name == mask_name.format(entry.image_path.stem)
        assert entry.mask_path.parent == ws.mask_dir
    mask_files = {n for n in os.listdir(ws.mask_dir) if not n.startswith(".")}
    assert mask_files == {e.mask_path.name for e in ws}  # and no mask is left over
    assert not any("match no image" in w for w in ws.warnings)
    first = ws.load_mask(ws[0].key)
    assert first is not None and first.ndim == 2


def test_pets_reports_the_three_mat_files_and_ignores_list_txt():
    ws = Workspace.open(DATA / "pets")
    assert sorted(p.name for p, _ in ws.skipped) == [
        "Abyssinian_100.mat", "Abyssinian_101.mat", "Abyssinian_102.mat"]
    assert all("not an image" in reason for _, reason in ws.skipped)
    # the quirky files keep their names: a GIF and an RGBA PNG both called .jpg
    assert {"images/Abyssinian_34.jpg", "images/Abyssinian_5.jpg"} <= {e.key for e in ws}


def read_only_mirror(source: Path, target: Path) -> Path:
    """``source``'s folders recreated under ``target``, its files linked, every folder then
    made read-only: the real data set as a read-only mount shows it, whether or not the data
    folder itself is writable (the write bits stop even root: see ``Workspace.read_only``)."""
    folders = []
    for dirpath, dirnames, filenames in os.walk(source):
        here = target / Path(dirpath).relative_to(source)
        here.mkdir(parents=True, exist_ok=True)
        folders.append(here)
        for name in filenames:
            os.symlink(Path(dirpath) / name, here / name)
    for folder in reversed(folders):
        folder.chmod(0o555)
    return target


@pytest.fixture
def read_only_copy(tmp_path):
    made = []

    def make(folder: str) -> Path:
        made.append(read_only_mirror(DATA / folder, tmp_path / "ro" / folder))
        return made[-1]

    yield make
    for root in made:  # writable again, so that pytest can delete it
        for dirpath, _, _ in os.walk(root):
            os.chmod(dirpath, 0o755)


@pytest.mark.parametrize("folder", [s[0] for s in SETS])
def test_read_only_real_set_is_not_written(folder, read_only_copy):
    root = read_only_copy(folder)
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    ws = Workspace.open(root)
    assert ws.read_only and any("read-only" in w for w in ws.warnings)
    assert (ws.layout, len(ws)) == next((s[1], s[2]) for s in SETS if s[0] == folder)
    assert not ws.manifest_path.parent.exists()
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before
