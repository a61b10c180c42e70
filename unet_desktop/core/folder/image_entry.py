"""One image of an open folder as the workspace lists it (:class:`ImageEntry`: its image and
mask files, its labelling state, the slice of a stack it is), and the states that count as
labelled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unet_desktop.core.folder.manifest import ImageState

LABELLED_STATES = (ImageState.CORRECTED, ImageState.VERIFIED)


@dataclass
class ImageEntry:
    key: str  # image path relative to the workspace root, posix
    image_path: Path
    mask_path: Path  # existing mask, or where the app will write it
    state: ImageState
    model_version: str | None = None  # the model that made the prediction this mask started from
    uncertainty: float | None = None  # the prediction's uncertainty score (higher = less sure)
    page: int | None = None  # the slice of a multi-page TIFF (0-based), None for an image
    pages: int = 1  # slices in the image's file; its masks are one mask stack of that many

    @property
    def is_slice(self) -> bool:
        return self.page is not None

    @property
    def label(self) -> str:
        """How the folder list names it: the key, or ``volume.tif [3/30]`` for a slice."""
        if self.page is None:
            return self.key
        from unet_desktop.core.io.stacks import slice_label

        return slice_label(self.key.rsplit(" [", 1)[0], self.page, self.pages)

    @property
    def has_mask(self) -> bool:
        return self.state is not ImageState.UNLABELED
