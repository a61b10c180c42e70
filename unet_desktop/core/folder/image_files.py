"""Reading an entry's image file: its stored values (an image, a TIFF, or one slice of a
multi-page TIFF) and its size from the header alone."""

from __future__ import annotations

import numpy as np

from unet_desktop.core.folder.image_entry import ImageEntry


def read_raw(entry: ImageEntry) -> np.ndarray:
    """The image's stored values, data kept (uint8, 12/16-bit, float; gray or channels last)."""
    if entry.page is not None:
        from unet_desktop.core.io.stacks import read_slice

        return read_slice(entry.image_path, entry.page)
    if entry.image_path.suffix.lower() in (".tif", ".tiff"):
        from unet_desktop.core.io.stacks import read_tiff_image

        return read_tiff_image(entry.image_path)
    from unet_desktop.core.io.imageio import read_image_raw

    return read_image_raw(entry.image_path)


def image_size(entry: ImageEntry) -> tuple[int, int]:
    """(width, height) of an entry's image from its header."""
    if entry.page is not None:
        from unet_desktop.core.io.stacks import probe_tiff

        layout = probe_tiff(entry.image_path)
        return layout.width, layout.height
    from unet_desktop.core.io.imageio import image_size as file_image_size

    return file_image_size(entry.image_path)


def stored_above_8_bits(entry: ImageEntry) -> bool:
    """Whether the image may store values wider than 8 bits (16/32-bit integers or floats),
    from its header: only such images need decoding to find the range their data uses."""
    if entry.page is not None or entry.image_path.suffix.lower() in (".tif", ".tiff"):
        from unet_desktop.core.io.stacks import probe_tiff

        return probe_tiff(entry.image_path).dtype not in ("uint8", "int8", "bool")
    from unet_desktop.core.io.imageio import open_image_file, wide_colour_kind

    with open_image_file(entry.image_path) as im:  # I;16, I (32-bit), F; 16-bit colour PNGs
        return im.mode.startswith(("I", "F")) or wide_colour_kind(im) is not None
