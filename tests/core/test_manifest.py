from __future__ import annotations

import json
import math

import pytest

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.manifest import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ImageState,
    JournalLine,
    Manifest,
    ManifestError,
    ManifestRecord,
    dump_manifest,
    load_manifest,
    manifest_path,
    parse_manifest,
    quarantine,
    save_manifest,
)
from unet_desktop.core.labels import camvid_scheme, trimap_scheme


def _doc(entries: object, **extra: object) -> bytes:
    doc = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "scheme": None, "entries": entries}
    doc.update(extra)
    return json.dumps(doc).encode()


def test_round_trip_keeps_scheme_states_versions_and_unicode_keys():
    manifest = Manifest(camvid_scheme(), {
        "images/ä b.jpg": ManifestRecord(ImageState.PREDICTED, "v7", 0.25),
        "c.png": ManifestRecord(ImageState.VERIFIED),
        "d.png": ManifestRecord(ImageState.UNLABELED, None, 1.5),
    })
    back = parse_manifest(dump_manifest(manifest))
    assert back.scheme == camvid_scheme()
    assert back.records == manifest.records


def test_non_finite_uncertainty_is_stored_as_null():
    manifest = Manifest(None, {"a.png": ManifestRecord(ImageState.PREDICTED, "v1", math.nan)})
    doc = json.loads(dump_manifest(manifest))
    assert doc["entries"]["a.png"]["uncertainty"] is None


@pytest.mark.parametrize("data, reason", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[]", "not a unet-desktop-manifest"),
    (json.dumps({"format": "other"}).encode(), "not a unet-desktop-manifest"),
    (_doc({}, version=FORMAT_VERSION + 1), "newer"),
    (_doc({}, version="1"), "version missing"),
    (_doc([]), "'entries' must be an object"),
    (_doc({"a.png": "corrected"}), "not an object"),
    (_doc({"a.png": {"state": "bogus"}}), "no valid state"),
    (_doc({"a.png": {"state": "predicted", "model_version": 3}}), "model_version"),
    (_doc({"a.png": {"state": "predicted", "uncertainty": "high"}}), "uncertainty"),
    (_doc({"a.png": {"state": "predicted", "uncertainty": True}}), "uncertainty"),
    (_doc({}, scheme={"kind": "nonsense", "classes": []}), "scheme"),
    (_doc({}, scheme=[1, 2]), "scheme"),
    (_doc({}, folded_journal=7), "folded_journal"),
])
def test_parse_rejects_bad_content_with_a_reason(data, reason):
    with pytest.raises((ValueError, TypeError), match=reason):
        parse_manifest(data)


def test_load_missing_is_none_and_corrupt_raises_manifest_error(tmp_path):
    path = manifest_path(tmp_path)
    assert load_manifest(path) is None
    path.parent.mkdir()
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ManifestError) as info:
        load_manifest(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, FileError)


def test_save_creates_folder_and_overwrites_atomically(tmp_path):
    path = manifest_path(tmp_path)
    save_manifest(path, Manifest(trimap_scheme(), {"a.png": ManifestRecord(ImageState.CORRECTED)}))
    save_manifest(path, Manifest(trimap_scheme(), {"b.png": ManifestRecord(ImageState.VERIFIED)}))
    loaded = load_manifest(path)
    assert loaded is not None and list(loaded.records) == ["b.png"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["manifest.json"]  # no temp left


@pytest.mark.reliability("disk", "manifest write fails")
def test_save_failure_is_a_file_error_naming_the_path(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    path = blocker / "manifest.json"
    with pytest.raises(FileError, match="cannot write the manifest") as info:
        save_manifest(path, Manifest())
    assert info.value.path == str(path)


def test_quarantine_renames_without_overwriting_an_earlier_one(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text("bad 1", encoding="utf-8")
    first = quarantine(path)
    path.write_text("bad 2", encoding="utf-8")
    second = quarantine(path)
    assert first != second and not path.exists()
    assert first.name.startswith("manifest.json.corrupt-")
    assert {first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")} == {
        "bad 1", "bad 2"}


def test_the_folded_journal_id_round_trips_and_old_manifests_have_none():
    manifest = Manifest(None, {"a.png": ManifestRecord(ImageState.PREDICTED, "v1")}, "abc")
    assert parse_manifest(dump_manifest(manifest)).folded_journal == "abc"
    assert parse_manifest(_doc({})).folded_journal is None


def test_journal_lines_round_trip_and_malformed_ones_are_dropped():
    line = JournalLine("images/ä.png", ManifestRecord(ImageState.PREDICTED, "v2", 0.5),
                       "masks/ä.png", [12, 34, 56])
    assert JournalLine.from_dict(json.loads(json.dumps(line.to_dict()))) == line
    good = line.to_dict()
    for bad in ({**good, "key": None}, {**good, "mask": 3}, {**good, "before": "x"},
                {**good, "before": [1.5]}, {**good, "state": "bogus"},
                {**good, "state": "unlabeled"}, {**good, "uncertainty": "high"}):
        assert JournalLine.from_dict(bad) is None
