"""The workspace manifest: per-image labelling state kept beside the data.

It lives in ``<root>/.unet-desktop/manifest.json``::

    {"format": "unet-desktop-manifest", "version": 1,
     "scheme": {...LabelScheme.to_dict()...},
     "entries": {"images/a.jpg": {"state": "predicted", "model_version": "v3",
                                  "uncertainty": 0.12}, ...}}

Entries are keyed by the image path relative to the workspace root (posix). Mask paths are not
stored: they are derived from the folder layout on every scan, so a manifest can never direct a
write to some other place. Writes are atomic (see :mod:`unet_desktop.core.io.atomic`).

Beside it, ``manifest.journal`` (:mod:`unet_desktop.core.folder.journal`) holds the record of each mask
saved since the manifest was last written, one line per mask written before the mask itself::

    {"key": "images/a.jpg", "state": "predicted", "model_version": "v3", "uncertainty": 0.12,
     "mask": "annotations/trimaps/a.png", "before": [inode, mtime_ns, size] or null}

``"folded_journal"`` in the manifest is the id of the last journal folded into it.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.io.json_file import read_file, write_json
from unet_desktop.core.io.paths import first_free_path
from unet_desktop.core.labels import LabelScheme

MANIFEST_DIR = ".unet-desktop"
MANIFEST_NAME = "manifest.json"
JOURNAL_NAME = "manifest.journal"
FORMAT_NAME = "unet-desktop-manifest"
FORMAT_VERSION = 1


class ImageState(str, Enum):
    """Where an image stands in the predict -> correct -> verify cycle."""

    UNLABELED = "unlabeled"  # no mask file
    PREDICTED = "predicted"  # mask written by a model, not looked at by a person
    CORRECTED = "corrected"  # mask edited (or supplied) by a person
    VERIFIED = "verified"  # a person checked the mask and marked it final


class ManifestError(FileError):
    """The manifest file is not valid JSON or does not have the expected structure."""


@dataclass
class ManifestRecord:
    state: ImageState
    model_version: str | None = None
    uncertainty: float | None = None


@dataclass
class Manifest:
    scheme: LabelScheme | None = None
    records: dict[str, ManifestRecord] = field(default_factory=dict)
    folded_journal: str | None = None  # id of the last journal folded into these records


@dataclass
class JournalLine:
    """A mask about to be written: its record, where, and the file it replaces."""

    key: str
    record: ManifestRecord
    mask: str  # the mask file, relative to the workspace root (posix)
    before: list[int] | None  # file_identity() of the mask file before the write

    def to_dict(self) -> dict:
        r = self.record
        return {"key": self.key, "state": r.state.value, "model_version": r.model_version,
                "uncertainty": clean_uncertainty(r.uncertainty), "mask": self.mask,
                "before": self.before}

    @classmethod
    def from_dict(cls, raw: dict) -> JournalLine | None:
        """The line, or ``None`` when it is malformed (never trusted more than the manifest)."""
        key, mask, before = raw.get("key"), raw.get("mask"), raw.get("before")
        if not isinstance(key, str) or not isinstance(mask, str):
            return None
        if before is not None and not (isinstance(before, list)
                                       and all(isinstance(v, int) for v in before)):
            return None
        try:
            record = _parse_record(key, raw)
        except (TypeError, ValueError):
            return None
        if record.state is ImageState.UNLABELED:  # a written mask is never unlabeled
            return None
        return cls(key, record, mask, before)


def manifest_path(root: str | os.PathLike) -> Path:
    return Path(root) / MANIFEST_DIR / MANIFEST_NAME


def journal_path(root: str | os.PathLike) -> Path:
    return Path(root) / MANIFEST_DIR / JOURNAL_NAME


def clean_uncertainty(value: float | None) -> float | None:
    """A finite float or ``None`` (NaN and infinities are not valid JSON)."""
    if value is None:
        return None
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a float
        return None
    return value if math.isfinite(value) else None


def _parse_record(key: object, raw: object) -> ManifestRecord:
    if not isinstance(key, str) or not isinstance(raw, dict):
        raise TypeError(f"entry {key!r} is not an object keyed by an image path")
    try:
        state = ImageState(raw["state"])
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"entry {key!r} has no valid state") from None
    version = raw.get("model_version")
    if version is not None and not isinstance(version, str):
        raise ValueError(f"entry {key!r}: model_version must be a string or null")
    unc = raw.get("uncertainty")
    if unc is not None and (isinstance(unc, bool) or not isinstance(unc, (int, float))):
        raise ValueError(f"entry {key!r}: uncertainty must be a number or null")
    return ManifestRecord(state, version, clean_uncertainty(unc))


def parse_manifest(data: bytes) -> Manifest:
    """Decode manifest bytes; raises ``ValueError`` (bad values) or ``TypeError`` (wrong types)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise ValueError(f"not a {FORMAT_NAME} file")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise TypeError("format version missing")
    if version > FORMAT_VERSION:
        raise ValueError(f"format version {version} is newer than this app ({FORMAT_VERSION})")
    entries = doc.get("entries")
    if not isinstance(entries, dict):
        raise TypeError("'entries' must be an object")
    scheme = None
    if doc.get("scheme") is not None:
        if not isinstance(doc["scheme"], dict):
            raise TypeError("'scheme' must be an object")
        scheme = LabelScheme.from_dict(doc["scheme"])
    folded = doc.get("folded_journal")
    if folded is not None and not isinstance(folded, str):
        raise TypeError("'folded_journal' must be a string or null")
    return Manifest(scheme, {k: _parse_record(k, v) for k, v in entries.items()}, folded)


def manifest_document(manifest: Manifest) -> dict:
    """The manifest as the JSON object written to its file."""
    entries = {
        key: {"state": r.state.value, "model_version": r.model_version,
              "uncertainty": clean_uncertainty(r.uncertainty)}
        for key, r in sorted(manifest.records.items())
    }
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "scheme": manifest.scheme.to_dict() if manifest.scheme is not None else None,
        "entries": entries,
        "folded_journal": manifest.folded_journal,
    }


def dump_manifest(manifest: Manifest) -> bytes:
    return json.dumps(manifest_document(manifest), indent=1, ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def load_manifest(path: str | os.PathLike) -> Manifest | None:
    """The manifest at ``path``; ``None`` if there is none; ``ManifestError`` if it is corrupt."""
    path = Path(path)
    data = read_file(path, ManifestError)
    if data is None:
        return None
    try:
        return parse_manifest(data)
    except (ValueError, TypeError) as exc:
        raise ManifestError(path, str(exc)) from exc


def save_manifest(path: str | os.PathLike, manifest: Manifest) -> None:
    """Write the manifest atomically, creating its folder; raises ``FileError``."""
    write_json(path, manifest_document(manifest), FileError, "manifest")


def quarantine(path: str | os.PathLike) -> Path:
    """Rename a corrupt manifest to ``manifest.json.corrupt-<timestamp>``; raises ``OSError``."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = first_free_path(path.parent, f"{path.name}.corrupt-{stamp}")
    os.replace(path, target)
    return target
