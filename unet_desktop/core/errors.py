"""The project's exception types. Every message names the file and the reason."""

from __future__ import annotations

import os


class UnetDesktopError(Exception):
    """Base class of every error this project raises on purpose."""


class FileError(UnetDesktopError):
    """A file could not be read or written: ``str(err)`` is ``"<path>: <reason>"``."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ImageReadError(FileError):
    """An image file is missing, not an image, truncated, too large or of an unsupported mode."""


class MaskError(FileError):
    """A mask file cannot be read, has values outside its label scheme, or cannot be written."""


class ModelFileError(FileError):
    """A model file is unreadable, unsafe, or does not match the architecture it declares."""
