"""Each image's labelling state when a folder opens: the manifest's records, the journal of a
run that did not finish replayed over them, then checked against the mask files on disk.

- no manifest: an image with a mask file is ``corrected``, one without is ``unlabeled``;
- the records of images that are away (moved out for a moment, renamed, not synced yet) are kept
  aside (:func:`absent_records`) and written on with the manifest, so that a state comes back
  with its image: a prediction is never taken for a correction because its record was lost;
- a state that claims a mask whose file is gone becomes ``unlabeled``; a mask file that appeared for an ``unlabeled`` image makes it
  ``corrected``. So ``state != UNLABELED`` exactly when the image has a mask file;
- a journal line counts only when its mask file was really replaced (its identity changed since
  the line was written): the mask was written but the manifest was not.
"""

from __future__ import annotations

from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.journal import was_replaced
from unet_desktop.core.folder.layouts import FolderScan
from unet_desktop.core.folder.manifest import ImageState, JournalLine, Manifest, ManifestRecord


def replay_journal(scan: FolderScan, manifest: Manifest | None, lines: list[dict],
                   warnings: list[str]) -> dict[str, ManifestRecord]:
    """The manifest's records with the journal's laid over them: each line whose mask file is
    where the scan found the image's mask (any, for an image away) and was replaced since the
    line was written (later lines of the same image win)."""
    records = dict(manifest.records) if manifest is not None else {}
    masks = {p.key: p.mask_path for p in scan.pairs}
    replayed = set()
    for raw in lines:
        line = JournalLine.from_dict(raw)
        if line is None or masks.get(line.key, scan.root / line.mask) != scan.root / line.mask:
            continue  # an image away keeps its line too: its state comes back with it
        if was_replaced(scan.root / line.mask, line.before):
            records[line.key] = line.record
            replayed.add(line.key)
    if replayed:
        warnings.append(f"the states of {len(replayed)} mask(s) saved by a run that did not "
                        "finish were recovered from the manifest's journal")
    return records


def merge_states(scan: FolderScan, records: dict[str, ManifestRecord],
                 warnings: list[str]) -> list[ImageEntry]:
    """One entry per image the scan found, its state from ``records`` agreeing with its mask
    file (module docstring)."""
    entries: list[ImageEntry] = []
    lost = 0
    for pair in scan.pairs:
        rec = records.get(pair.key)
        entry = ImageEntry(pair.key, pair.image_path, pair.mask_path, ImageState.UNLABELED,
                           page=pair.page, pages=pair.pages)
        if rec is not None:
            entry.uncertainty = rec.uncertainty
        if pair.mask_exists:
            entry.state = ImageState.CORRECTED
            if rec is not None and rec.state is not ImageState.UNLABELED:
                entry.state, entry.model_version = rec.state, rec.model_version
        elif rec is not None and rec.state is not ImageState.UNLABELED:
            lost += 1
            entry.uncertainty = None  # it described a mask that is gone
        entries.append(entry)
    if lost:
        warnings.append(f"{lost} image(s) recorded as labelled have no mask file any more and "
                        "are now unlabeled")
    return entries


def absent_records(scan: FolderScan, records: dict[str, ManifestRecord],
                   warnings: list[str]) -> dict[str, ManifestRecord]:
    """The labelled records of images the scan did not find, to be kept in the manifest until
    their images come back (an unlabeled record holds nothing worth keeping)."""
    present = {p.key for p in scan.pairs}
    absent = {key: rec for key, rec in records.items()
              if key not in present and rec.state is not ImageState.UNLABELED}
    if absent:
        names = ", ".join(sorted(absent)[:3]) + (", ..." if len(absent) > 3 else "")
        warnings.append(f"{len(absent)} image(s) recorded in the manifest are not in the folder "
                        f"({names}); their states are kept and come back with them")
    return absent
