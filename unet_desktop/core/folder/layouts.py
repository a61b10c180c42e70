"""Find a folder's images and pair each with its mask file, from file names alone.

Nothing is decoded and nothing is stat'ed beyond what ``os.scandir`` reports, so a folder of
10,000 images scans in milliseconds. The images are in ``images/`` if there is one, else in the
folder itself. The masks are in whichever of these places pairs the most images by name (the
first on a tie; when none pairs any, the first folder that exists and holds no other kind of
file, else ``masks/``, created at the first save):

``oxford``   ``annotations/trimaps/<stem>.png`` beside ``images/`` (Oxford-IIIT Pet).
``generic``  ``masks/`` (or ``labels/``) with the same stem as the images.
``suffix``   masks named ``<stem>_mask.<ext>``, in ``masks/`` (Carvana) or beside the images.
``flat``     images directly in the folder, masks in ``masks/<stem>.png`` (or ``labels/``).

A place not chosen that pairs images, a ``labels/`` holding no images (YOLO's ``.txt`` files),
JPEG masks (lossy, not read), and an ``images/`` folder opened on its own whose masks are in
``../masks`` are each said in ``warnings``. A ``<stem>_mask.<ext>`` file beside an image
``<stem>.<ext>`` is never listed as an image.

Mask files may be PNG, GIF, TIFF or BMP; when several exist for one image the first in
:data:`MASK_EXTENSIONS` wins (so a PNG the app wrote supersedes an original GIF). An image with no
mask yet gets the path the app will write: ``<mask folder>/<stem><suffix>.png``.

A multi-page TIFF (a stack, :mod:`unet_desktop.core.io.stacks`) is one pair per slice, keyed
``<image> [i/n]``; its header is read (no pixel decoded) to count the slices, and its masks are
one page-aligned mask stack ``<mask folder>/<stem><suffix>.tif`` whose header says which pages
are labelled. A TIFF whose header is refused (hostile or corrupt) is skipped with the reason.

Names are compared as macOS and Windows do: in any letter case and any Unicode form (a name
copied from a Mac arrives decomposed, NFD: ``cafe`` + U+0301). A mask whose name differs from its
image's only so is paired when no mask has the exact name, and the app then writes to that file,
never a second one beside it; two such masks for one image are said in ``warnings``. Images with
the same stem (``a.jpg`` and ``a.png``, ``Cell.png`` and ``cell.tif``) would share a mask: the
first by name is kept, the others are skipped and reported, and the one kept takes only a mask
with its exact stem (``masks/cell.png`` was drawn for ``cell.tif``, not for ``Cell.png``).
Hidden names (starting with ``.``, which includes the ``.unet-desktop`` folder and temporary
files) are ignored; other non-image files are skipped and reported.
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from unet_desktop.core.errors import FileError
from unet_desktop.core.io.imageio import IMAGE_EXTENSIONS
from unet_desktop.core.io.stacks import (
    TIFF_EXTENSIONS,
    TiffLayout,
    has_tiff_signature,
    probe_tiff,
    read_mask_stack_header,
    slice_key,
)

MASK_EXTENSIONS = (".png", ".gif", ".tif", ".tiff", ".bmp")  # preference order
MASK_SUFFIX = "_mask"
MASK_DIR_NAMES = ("masks", "labels")
IMAGES_DIR = "images"
OXFORD_MASK_DIR = ("annotations", "trimaps")
LAYOUTS = ("oxford", "generic", "suffix", "flat")


@dataclass(frozen=True)
class Pair:
    """One image and the mask file that belongs to it (existing or to be written)."""

    key: str  # image path relative to the root, posix
    image_path: Path
    mask_path: Path
    mask_exists: bool
    page: int | None = None  # the slice of a stack (0-based); None for a single image
    pages: int = 1  # slices in the image's file
    channels: int | None = None  # from a TIFF header; None: not read (other formats)


@dataclass
class FolderScan:
    layout: str
    root: Path
    image_dir: Path
    mask_dir: Path
    mask_suffix: str  # "" or "_mask": mask file stem = image stem + suffix
    pairs: list[Pair] = field(default_factory=list)  # sorted by key
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # image stem -> stem of its mask file on disk, where it is spelled otherwise (case, NFD)
    mask_stems: dict[str, str] = field(default_factory=dict)
    # the channel count of each TIFF image file, from the header read to pair it (kept so that
    # nothing reads those headers again, e.g. New Task on a folder of thousands of files)
    channels: dict[Path, int] = field(default_factory=dict)

    def new_mask_path(self, image_stem: str) -> Path:
        """Where the app writes the mask of an image with this stem (always a PNG)."""
        return self.mask_dir / f"{self._mask_stem(image_stem)}.png"

    def new_mask_stack_path(self, image_stem: str) -> Path:
        """Where the app writes the mask stack of a multi-page TIFF with this stem."""
        return self.mask_dir / f"{self._mask_stem(image_stem)}.tif"

    def _mask_stem(self, image_stem: str) -> str:
        return self.mask_stems.get(image_stem, image_stem + self.mask_suffix)


def name_key(stem: str) -> str:
    """How file names are compared: any letter case, any Unicode form (Unicode's canonical
    caseless match), as macOS and Windows compare them."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", stem).casefold())


def _split(name: str) -> tuple[str, str]:
    """``"a.b.JPG"`` -> ``("a.b", ".jpg")``; the suffix is lower-cased."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, "." + ext.lower()


def _visible_entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return [e for e in it if not e.name.startswith(".")]
    except FileNotFoundError:
        return []


def _mask_names(entries: list[os.DirEntry[str]]) -> dict[str, str]:
    """Mask file stem -> file name, choosing by :data:`MASK_EXTENSIONS` order among duplicates."""
    best: dict[str, tuple[int, str]] = {}
    for e in entries:
        stem, ext = _split(e.name)
        if ext in MASK_EXTENSIONS:
            rank = MASK_EXTENSIONS.index(ext)
            if stem not in best or rank < best[stem][0]:
                best[stem] = (rank, e.name)
    return {stem: name for stem, (_, name) in best.items()}


def _is_dir(path: Path) -> bool:
    return os.path.isdir(path)


@dataclass
class _Place:
    """A place the masks may be in, and how many images its mask files pair by name."""

    folder: Path
    entries: list[os.DirEntry[str]]
    masks: dict[str, str]  # mask file stem -> name (mask formats only)
    suffix: str
    paired: int
    beside: bool = False  # the images' own folder (``<stem>_mask`` files)

    def describe(self) -> str:
        return (f"<stem>{MASK_SUFFIX} files beside the images in {self.folder}" if self.beside
                else str(self.folder))


def _place(folder: Path, image_stems: list[str], beside_entries: list | None = None) -> _Place:
    """The masks in ``folder``; ``beside_entries``: it is the images' folder, whose listing
    this is, and only ``<stem>_mask`` files count there."""
    entries = _visible_entries(folder) if beside_entries is None else beside_entries
    masks = _mask_names(entries)
    if beside_entries is not None:
        masks = {stem: name for stem, name in masks.items() if stem.endswith(MASK_SUFFIX)}
    same, suffixed = _suffix_votes(image_stems, masks)
    if beside_entries is not None:
        same = 0
    suffix = MASK_SUFFIX if suffixed > same else ""
    return _Place(folder, entries, masks, suffix, max(same, suffixed), beside_entries is not None)


def _holds_no_mask_images(place: _Place) -> bool:
    """Files there, none an image: not a mask folder (YOLO ``labels/*.txt``, for one)."""
    files = [e.name for e in place.entries if e.is_file()]
    return bool(files) and not any(_split(n)[1] in IMAGE_EXTENSIONS for n in files)


def _mask_folders(root: Path, with_oxford: bool) -> list[Path]:
    """The folders masks are looked for in, in order of preference."""
    names = [root.joinpath(*OXFORD_MASK_DIR)] if with_oxford else []
    return names + [root / name for name in MASK_DIR_NAMES]


def _choose_place(root: Path, image_dir: Path, listed: list[os.DirEntry[str]],
                  image_entries: list[os.DirEntry[str]], warnings: list[str]) -> _Place:
    """The place whose mask files pair the most images (the first by preference on a tie);
    when none pairs any, the first mask folder that exists and may hold masks, else ``masks/``
    (created at the first save). What was not used and pairs images, or holds no mask images,
    is said in ``warnings``. ``listed``: the images' folder, ``<stem>_mask`` files included."""
    stems = [_split(e.name)[0] for e in image_entries if _split(e.name)[1] in IMAGE_EXTENSIONS]
    folders = [f for f in _mask_folders(root, image_dir != root) if _is_dir(f)]
    places = [_place(f, stems) for f in folders] + [_place(image_dir, stems, listed)]
    not_masks = [p for p in places if not p.beside and _holds_no_mask_images(p)]
    best = max(places, key=lambda p: p.paired)  # max keeps the first of equals
    if best.paired == 0:
        best = next((p for p in places if not p.beside and p not in not_masks),
                    _place(root / MASK_DIR_NAMES[0], stems))
    for p in places:
        if p is not best and p.paired:
            warnings.append(f"{p.paired} mask(s) in {p.describe()} pair with images by name but "
                            f"are not used: masks are read from {best.folder}, where "
                            f"{best.paired} pair")
        elif p in not_masks:
            example = min(e.name for e in p.entries if e.is_file())
            warnings.append(f"{p.folder} holds no mask images (files like {example}: another "
                            f"tool's annotations?); not used, masks go to {best.folder}")
    return best


def _beside_mask_names(image_entries: list[os.DirEntry[str]]) -> set[str]:
    """Names ``<stem>_mask.<ext>`` of files beside an image ``<stem>.<ext2>``: masks, never
    listed as images."""
    stems = {_split(e.name)[0] for e in image_entries}
    return {e.name for e in image_entries
            if _split(e.name)[1] in IMAGE_EXTENSIONS
            and (stem := _split(e.name)[0]).endswith(MASK_SUFFIX)
            and stem[: -len(MASK_SUFFIX)] in stems}


def _lossy_masks(place: _Place, image_stems: set[str]) -> list[str]:
    """JPEG files there that would be the mask of an image with no mask in a lossless format."""
    found = []
    for e in place.entries:
        stem, ext = _split(e.name)
        if ext in (".jpg", ".jpeg") and stem.endswith(place.suffix):
            image_stem = stem[: len(stem) - len(place.suffix)]
            if image_stem in image_stems and stem not in place.masks:
                found.append(e.name)
    return sorted(found)


def _say_lossy(place: _Place, lossy: list[str], warnings: list[str]) -> None:
    if lossy:
        names = ", ".join(lossy[:3]) + (", ..." if len(lossy) > 3 else "")
        warnings.append(f"{len(lossy)} mask(s) in {place.folder} are JPEG ({names}): not used, "
                        "as JPEG is lossy (its edges hold values that are no label); convert "
                        "them to PNG")


def _say_sibling_masks(root: Path, image_entries: list[os.DirEntry[str]], paired_here: int,
                       warnings: list[str]) -> None:
    """``root`` is the ``images/`` folder of a dataset whose masks are beside it."""
    if root.name != IMAGES_DIR or root.parent == root:
        return
    stems = [_split(e.name)[0] for e in image_entries if _split(e.name)[1] in IMAGE_EXTENSIONS]
    for folder in _mask_folders(root.parent, True):
        if _is_dir(folder) and (paired := _place(folder, stems).paired) > paired_here:
            warnings.append(f"masks for these images seem to be in "
                            f"../{folder.relative_to(root.parent).as_posix()} ({paired} pair by "
                            f"name), which is not read here: open the parent folder "
                            f"{root.parent}")
            return


def _suffix_votes(image_stems: list[str], masks: dict[str, str]) -> tuple[int, int]:
    """(images with a same-stem mask, images with a ``<stem>_mask`` mask), names compared by
    :func:`name_key`."""
    keys = {name_key(stem) for stem in masks}
    same = sum(1 for s in image_stems if name_key(s) in keys)
    suffixed = sum(1 for s in image_stems if name_key(s + MASK_SUFFIX) in keys)
    return same, suffixed


def scan_folder(root: str | os.PathLike) -> FolderScan:
    """Detect the layout of ``root`` and pair its images with their masks (names only)."""
    root = Path(root)
    if not _is_dir(root):
        raise NotADirectoryError(root)
    image_dir = root / IMAGES_DIR if _is_dir(root / IMAGES_DIR) else root
    listed = _visible_entries(image_dir)
    beside = _beside_mask_names(listed)
    image_entries = [e for e in listed if e.name not in beside]
    warnings: list[str] = []
    place = _choose_place(root, image_dir, listed, image_entries, warnings)
    image_stems = {_split(e.name)[0] for e in image_entries}
    scan = FolderScan(_layout_name(root, image_dir, place), root, image_dir, place.folder,
                      place.suffix, warnings=warnings)
    if not place.beside:
        scan.skipped.extend((image_dir / name, _why_beside_unused(name, place))
                            for name in sorted(beside))
    _say_lossy(place, _lossy_masks(place, image_stems), scan.warnings)
    _pair(scan, image_entries, place.masks, _stack_mask_names(place.entries))
    if image_dir == root:
        _say_sibling_masks(root, image_entries, sum(p.mask_exists for p in scan.pairs),
                           scan.warnings)
    return scan


def _why_beside_unused(name: str, place: _Place) -> str:
    if _split(name)[1] in (".jpg", ".jpeg"):
        return "a JPEG mask beside its image, not read (lossy): convert it to PNG"
    return f"a mask beside its image, not used: masks are read from {place.folder}"


def _layout_name(root: Path, image_dir: Path, place: _Place) -> str:
    if place.folder == root.joinpath(*OXFORD_MASK_DIR):
        return "oxford"
    if place.suffix:
        return "suffix"
    return "generic" if image_dir != root else "flat"


def _images_in(folder: Path) -> int:
    """How many image files ``folder`` holds directly (0 if it cannot be read)."""
    try:
        with os.scandir(folder) as entries:
            return sum(1 for e in entries if e.is_file() and _split(e.name)[1] in IMAGE_EXTENSIONS)
    except OSError:
        return 0


def _stack_mask_names(entries: list[os.DirEntry[str]]) -> dict[str, str]:
    """Mask stack file stem -> file name (``.tif`` before ``.tiff``)."""
    names: dict[str, str] = {}
    for wanted in TIFF_EXTENSIONS:
        for e in entries:
            stem, ext = _split(e.name)
            if ext == wanted:
                names.setdefault(stem, e.name)
    return names


class _MaskFinder:
    """The mask file of an image: the one with its exact stem, else the only one whose stem is
    the same by :func:`name_key` (a mask spelled in another case or Unicode form)."""

    def __init__(self, scan: FolderScan, masks: dict[str, str]) -> None:
        self._scan = scan
        self._exact = masks
        self._loose: dict[str, list[str]] = {}
        for stem, name in sorted(masks.items()):
            self._loose.setdefault(name_key(stem), []).append(name)

    def find(self, image_name: str, image_stem: str, exact_only: bool = False) -> str | None:
        """The mask's file name, or None; the mask's stem is remembered where it is spelled
        otherwise, so that a PNG written for it replaces it rather than lands beside it.
        ``exact_only``: another image has this name by :func:`name_key`, so a mask spelled
        otherwise may be that image's."""
        wanted = image_stem + self._scan.mask_suffix
        name = self._exact.get(wanted)
        if name is not None or exact_only:
            return name
        found = self._loose.get(name_key(wanted), [])
        if len(found) > 1:
            self._scan.warnings.append(
                f"{len(found)} masks in {self._scan.mask_dir} differ from {image_name} only in "
                f"letter case or Unicode form ({', '.join(found)}): none is used; rename all "
                "but one to the image's name")
        if len(found) != 1:
            return None
        self._scan.mask_stems[image_stem] = _split(found[0])[0]
        return found[0]


def _say_orphans(scan: FolderScan, masks: dict[str, str], used: set[str]) -> None:
    orphans = sorted(set(masks.values()) - used)
    if orphans and scan.mask_dir != scan.image_dir:
        names = ", ".join(orphans[:3]) + (", ..." if len(orphans) > 3 else "")
        scan.warnings.append(f"{len(orphans)} mask file(s) in {scan.mask_dir} match no image: "
                             f"{names}")


def _pair(scan: FolderScan, image_entries: list[os.DirEntry[str]], masks: dict[str, str],
          stack_masks: dict[str, str] | None = None) -> None:
    rel_dir = scan.image_dir.relative_to(scan.root).as_posix()
    prefix = "" if rel_dir == "." else rel_dir + "/"
    kept: dict[str, str] = {}  # name_key of the stem -> image name that owns the mask
    clashing = _clashing_stems(image_entries)
    used_masks: set[str] = set()
    single_finder = _MaskFinder(scan, masks)
    stack_finder = _MaskFinder(scan, stack_masks or {})
    for e in sorted(image_entries, key=lambda e: e.name):
        path = scan.image_dir / e.name
        stem, ext = _split(e.name)
        if e.is_dir():
            if scan.image_dir != scan.root:
                scan.skipped.append((path, "folder (subfolders are not scanned)"))
            elif path != scan.mask_dir and (count := _images_in(path)):
                why = f"folder of {count} image(s): subfolders are not scanned (open it on its own)"
                scan.skipped.append((path, why))
            continue
        if ext not in IMAGE_EXTENSIONS:
            reason = f"not an image ({ext or 'no'} extension)"
            scan.skipped.append((path, reason))
            continue
        if not e.is_file():
            scan.skipped.append((path, "not a regular file (broken link?)"))
            continue
        owner = kept.setdefault(name_key(stem), e.name)
        if owner != e.name:
            reason = (f"same name as {owner} apart from {_how_names_differ(owner, e.name)}: "
                      f"their masks would collide, so {owner} takes only a mask named exactly "
                      "like it; rename one of them")
            scan.skipped.append((path, reason))
            continue
        layout = None
        if ext in TIFF_EXTENSIONS:
            try:
                layout = probe_tiff(path)
            except FileError as exc:
                if has_tiff_signature(path):  # a TIFF whose header is refused (hostile?)
                    scan.skipped.append((path, exc.reason))
                    continue
                layout = None  # not a TIFF inside: reading it says why, as for any image
            if layout is not None:
                scan.channels[path] = layout.channels
            if layout is not None and layout.note:  # what of the file is not read, named
                scan.warnings.append(layout.note)
            if layout is not None and layout.is_stack:
                mask_name = stack_finder.find(e.name, stem, name_key(stem) in clashing)
                _pair_stack(scan, prefix + e.name, path, stem, layout, mask_name)
                used_masks.update([mask_name] if mask_name else [])
                continue
        channels = layout.channels if layout is not None else None
        mask_name = single_finder.find(e.name, stem, name_key(stem) in clashing)
        if mask_name is not None:
            used_masks.add(mask_name)
            mask_path, exists = scan.mask_dir / mask_name, True
        else:
            mask_path, exists = scan.new_mask_path(stem), False
        scan.pairs.append(Pair(prefix + e.name, path, mask_path, exists, channels=channels))
    collisions = sum(1 for _, r in scan.skipped if r.startswith("same name as"))
    if collisions:
        scan.warnings.append(f"{collisions} image(s) share a name with another image and were "
                             "skipped (their masks would collide); the images kept take only "
                             "masks named exactly like them")
    _say_orphans(scan, masks, used_masks)
    scan.pairs.sort(key=lambda p: p.key)


def _clashing_stems(image_entries: list[os.DirEntry[str]]) -> set[str]:
    """The :func:`name_key` of each stem that two or more image names share (broken links
    and refused files included: a mask spelled like one of them may be theirs)."""
    seen: set[str] = set()
    clashing: set[str] = set()
    for e in image_entries:
        stem, ext = _split(e.name)
        if ext in IMAGE_EXTENSIONS and not e.is_dir():
            key = name_key(stem)
            (clashing if key in seen else seen).add(key)
    return clashing


def _how_names_differ(first: str, second: str) -> str:
    """For names whose stems are equal by :func:`name_key`: what tells them apart."""
    (stem1, ext1), (stem2, ext2) = _split(first), _split(second)
    same_text = unicodedata.normalize("NFC", stem1) == unicodedata.normalize("NFC", stem2)
    form = "Unicode form (the same letters, composed otherwise)" if same_text else "case"
    differ = [what for what, same in ((form, stem1 == stem2),
                                      ("the extension", ext1 == ext2)) if not same]
    return " and ".join(differ) or "case"


def _pair_stack(scan: FolderScan, key: str, path: Path, stem: str, layout: TiffLayout,
                mask_name: str | None) -> None:
    """One pair per slice of a stack, whose mask stack file is ``mask_name`` (None: none yet)."""
    slices = layout.slices
    mask_path = scan.mask_dir / mask_name if mask_name else scan.new_mask_stack_path(stem)
    labelled = [False] * slices
    if mask_name is not None:
        try:
            header = read_mask_stack_header(mask_path)
            labelled = [header.labelled(i) for i in range(slices)]
            if header.pages != slices:
                scan.warnings.append(f"{mask_path}: the mask stack has {header.pages} pages but "
                                     f"{path.name} has {slices} slices (pages are matched in "
                                     "order)")
        except FileError as exc:
            scan.warnings.append(f"mask stack not read, its slices count as unlabeled: {exc}")
    for i in range(slices):
        scan.pairs.append(Pair(slice_key(key, i, slices), path, mask_path, labelled[i], i,
                               slices, layout.channels))
