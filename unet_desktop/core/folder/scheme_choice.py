"""Which label scheme an opened folder uses: the one given, else the task's, else the
manifest's, else trimap for the Oxford layout, else guessed from ONE existing mask by
:func:`unet_desktop.core.io.maskio.guess_scheme` (values within {0, 1} or {0, 255} -> binary,
other values -> multiclass with max+1 classes), else the default given (e.g. the model's), else
binary."""

from __future__ import annotations

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.layouts import FolderScan
from unet_desktop.core.folder.manifest import Manifest
from unet_desktop.core.labels import LabelScheme, binary_scheme, trimap_scheme


def choose_scheme(given: LabelScheme | None, manifest: Manifest | None, scan: FolderScan,
                  warnings: list[str], default: LabelScheme | None = None,
                  task_scheme: LabelScheme | None = None) -> LabelScheme:
    """``given``, else the task's, else the manifest's, else the layout's or the masks', else
    ``default`` (e.g. the model's), else binary."""
    recorded = manifest.scheme if manifest is not None else None
    if given is None and task_scheme is not None:
        return task_scheme
    if given is not None:
        if recorded is not None and recorded != given:
            warnings.append(f"the label scheme given ({given.kind}, {given.num_classes} classes) "
                            f"replaces the manifest's ({recorded.kind}, "
                            f"{recorded.num_classes} classes)")
        return given
    if recorded is not None:
        return recorded
    if scan.layout == "oxford":
        return trimap_scheme()
    sample = next((p.mask_path for p in scan.pairs if p.mask_exists), None)
    if sample is None:
        return default or binary_scheme()
    from unet_desktop.core.io.maskio import guess_scheme, read_mask

    try:
        return guess_scheme(read_mask(sample))
    except (FileError, ValueError) as exc:
        warnings.append(f"could not guess the label scheme, using binary: {exc}")
        return binary_scheme()
