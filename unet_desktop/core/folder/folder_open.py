"""Opening a folder: everything a workspace starts from, read from the folder.

The folder is scanned by names only (:mod:`unet_desktop.core.folder.layouts`), so this is fast
on large folders; the states come from the sidecar manifest, the journal and the mask files
(:mod:`.folder_states`), the scheme from :mod:`.scheme_choice`.

Opening writes nothing, except removing what a killed atomic write left behind and renaming a
corrupt manifest (``manifest.json.corrupt-<time>``, reported in ``warnings``; states are then
rebuilt from the mask files). A task file that cannot be read is reported in ``warnings`` and
left as it is. A read-only folder opens with a warning.

One writer: ``writer=True`` (the window) takes the folder's advisory lock
(:mod:`unet_desktop.core.folder.folder_lock`); when another live process holds it, the folder
opens read-only and ``warnings`` names that process. So it does when that process holds the
parent whose layout reads this folder as its images (``DATA/images`` while ``DATA`` is open).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.folder_lock import (
    FolderLock,
    LockHolder,
    acquire,
    live_holder,
    lock_path,
)
from unet_desktop.core.folder.folder_states import absent_records, merge_states, replay_journal
from unet_desktop.core.folder.image_entry import ImageEntry
from unet_desktop.core.folder.journal import Journal
from unet_desktop.core.folder.layouts import FolderScan, Pair, scan_folder
from unet_desktop.core.folder.manifest import (
    ImageState,
    Manifest,
    ManifestError,
    ManifestRecord,
    journal_path,
    load_manifest,
    manifest_path,
    quarantine,
)
from unet_desktop.core.folder.scheme_choice import choose_scheme
from unet_desktop.core.folder.task import Task, TaskError, load_task
from unet_desktop.core.io.atomic import remove_stale_temp_files
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.paths import same_folder
from unet_desktop.core.labels import LabelScheme

log = logging.getLogger(__name__)


@dataclass
class OpenedFolder:
    """What was read from a folder; ``held`` is the folder's lock taken, or who holds it;
    ``absent``: the manifest records of images not found, kept for when they come back."""

    scan: FolderScan
    scheme: LabelScheme
    entries: list[ImageEntry]
    warnings: list[str]
    read_only: bool
    folded_journal: str | None
    task: Task | None
    held: FolderLock | LockHolder | None
    absent: dict[str, ManifestRecord] = field(default_factory=dict)


def open_folder(folder: str | os.PathLike, scheme: LabelScheme | None = None,
                default_scheme: LabelScheme | None = None, writer: bool = False) -> OpenedFolder:
    """Scan ``folder`` and merge the manifest; raises :class:`FileError` if it is no folder."""
    root = Path(os.path.abspath(os.path.expanduser(folder)))
    try:
        scan = scan_folder(root)
    except NotADirectoryError:
        raise FileError(root, "not a folder") from None
    except OSError as exc:
        where = exc.filename or root
        raise FileError(where, f"cannot list the folder ({exc.strerror or exc})") from exc
    warnings = list(scan.warnings)
    read_only = not (_is_writable(root) and _is_writable(scan.mask_dir))
    if read_only:
        warnings.append(f"{root} is read-only: labelling states are kept in memory only "
                        "and masks cannot be saved")
    held: FolderLock | LockHolder | None = None
    reader = _parent_holder(root) if writer and not read_only else None
    if reader is not None:  # DATA/images while another window writes DATA: that one's images
        parent, held = reader
        read_only = True
        warnings.append(f"{root} holds the images of {parent}, which is open in another window: "
                        f"{held.describe()}. Opened read-only (nothing is saved here; the masks "
                        f"of these images are in {scan_folder(parent).mask_dir}); open {parent} "
                        "once it is closed there")
    if writer and not read_only:
        try:
            held = acquire(root)
        except OSError as exc:
            warnings.append(f"{lock_path(root)}: cannot take the folder's lock "
                            f"({exc.strerror or exc}); another window may write it too")
        if isinstance(held, LockHolder):
            read_only = True
            warnings.append(f"{root} is open in another window: {held.describe()}. Opened "
                            "read-only (nothing is saved here) until it closes the folder "
                            f"(lock file {lock_path(root)})")
    if not read_only:  # what a killed atomic write left behind
        _remove_stale_temp_files(root, scan.mask_dir, manifest_path(root).parent)
    manifest = _load_or_quarantine(manifest_path(root), read_only, warnings)
    task = load_task_or_warn(root, warnings)
    journal = Journal(journal_path(root))
    lines = journal.read()
    folded = manifest.folded_journal if manifest is not None else None
    if journal.id is not None and journal.id == folded:
        lines = []  # already in the manifest: the process died before deleting it
    scheme = choose_scheme(scheme, manifest, scan, warnings, default_scheme,
                           task.scheme if task is not None else None)
    misfits = _skip_channel_misfits(scan, InputRule.from_dict(task.input_rule)) \
        if task is not None else []
    records = replay_journal(scan, manifest, lines, warnings)
    entries = merge_states(scan, records, warnings)
    absent = absent_records(replace(scan, pairs=scan.pairs + misfits), records, warnings)
    absent.update(_left_out_records(misfits, records, warnings))
    if not entries:
        warnings.append(_nothing_listed(scan))
    return OpenedFolder(scan, scheme, entries, warnings, read_only, folded, task, held,
                        absent)


def _parent_holder(root: Path) -> tuple[Path, LockHolder] | None:
    """The parent of ``root`` and the live process (another window) writing it, when the
    parent's layout reads its images from ``root`` (``DATA/images`` of ``DATA``); else None."""
    parent = root.parent
    if parent == root or not lock_path(parent).is_file():
        return None
    holder = live_holder(parent)
    if holder is None:
        return None
    try:
        image_dir = scan_folder(parent).image_dir
    except OSError:  # an unreadable parent is no workspace of these images
        return None
    return (parent, holder) if same_folder(image_dir, root) else None


def load_task_or_warn(root: Path, warnings: list[str]) -> Task | None:
    """The folder's task; ``None`` when there is none or (said in ``warnings``) it is unreadable."""
    try:
        return load_task(root)
    except TaskError as exc:
        warnings.append(f"task ignored (the file is left as it is): {exc}")
        return None


def _is_writable(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (or its nearest existing ancestor).

    The write bits are checked as well as ``os.access`` so that a folder marked read-only is
    treated as such even for root, who may write anywhere.
    """
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return os.access(folder, os.W_OK) and bool(mode & 0o222)


def _load_or_quarantine(path: Path, read_only: bool, warnings: list[str]) -> Manifest | None:
    try:
        return load_manifest(path)
    except ManifestError as exc:
        note = f"manifest ignored, states rebuilt from the mask files: {exc}"
        if not read_only:
            try:
                kept = quarantine(path)
                note += f" (the bad file is kept as {kept.name})"
            except OSError as move_exc:
                note += f" (could not rename it: {move_exc.strerror})"
        warnings.append(note)
        return None


def _skip_channel_misfits(scan: FolderScan, rule: InputRule) -> list[Pair]:
    """Images whose channels (known from their TIFF header) cannot feed the task's models are
    listed as skipped with the reason, never silently dropped or mixed; returns their pairs."""
    kept, left_out, misfits = [], [], {}
    for pair in scan.pairs:
        reason = rule.misfit(pair.channels) if pair.channels is not None else None
        if reason:
            misfits[pair.image_path] = reason
            left_out.append(pair)
        else:
            kept.append(pair)
    scan.pairs[:] = kept
    scan.skipped.extend((path, f"{reason}{_TASK_INPUT}{rule.describe()})")
                        for path, reason in misfits.items())
    return left_out


_TASK_INPUT = " (the task's input: "  # ends the reason of each file the task's channels skip


def channel_misfits(skipped: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """The files of a folder's ``skipped`` that the task's channels left out, with the reason."""
    return [(path, reason) for path, reason in skipped if _TASK_INPUT in reason]


def _left_out_records(misfits: list[Pair], records: dict[str, ManifestRecord],
                      warnings: list[str]) -> dict[str, ManifestRecord]:
    """The labelled records of images the task's channels left out: kept (in the manifest,
    their masks on disk) until a task whose channels fit them lists them again; said so."""
    keys = {p.key for p in misfits}
    held = {key: rec for key, rec in records.items()
            if key in keys and rec.state is not ImageState.UNLABELED}
    if held:
        names = ", ".join(sorted(held)[:3]) + (", ..." if len(held) > 3 else "")
        warnings.append(f"{len(held)} labelled image(s) are not listed because the task's "
                        f"channels do not fit them ({names}); their masks and states are kept "
                        "and come back once the task's channels fit")
    return held


def _nothing_listed(scan: FolderScan) -> str:
    """Why the folder lists no image: none found, or the task's channels fit none (the first
    one named, with the reason)."""
    misfits = channel_misfits(scan.skipped)
    if not misfits:
        return f"no images found in {scan.image_dir}"
    path, reason = misfits[0]
    return (f"no image is listed: the task's channels fit none of the {len(misfits)} image "
            f"file(s) in {scan.image_dir} ({path.name}: {reason})")


def _remove_stale_temp_files(*folders: Path) -> None:
    for folder in dict.fromkeys(folders):
        for path in remove_stale_temp_files(folder):
            log.info("%s: removed, left by an interrupted write", path)
