"""core.io.paths.first_free_path: a new file's name never replaces an existing file."""

from unet_desktop.core.io.paths import first_free_path


def test_the_first_free_name_skips_every_existing_file(tmp_path):
    assert first_free_path(tmp_path, "mask-1", ".png") == tmp_path / "mask-1.png"
    (tmp_path / "mask-1.png").write_bytes(b"")
    (tmp_path / "mask-1-2.png").write_bytes(b"")
    assert first_free_path(tmp_path, "mask-1", ".png") == tmp_path / "mask-1-3.png"


def test_a_name_without_suffix_counts_on_the_whole_name(tmp_path):
    (tmp_path / "manifest.json.corrupt-1").write_bytes(b"")
    assert first_free_path(tmp_path, "manifest.json.corrupt-1") == tmp_path / "manifest.json.corrupt-1-2"
