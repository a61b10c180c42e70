"""What the learning loop keeps between rounds: decoded training samples and validation pairs in
one cache bounded in bytes (least recently used go first), and the ``SkippedPair`` that names an
image the loop could not read (for training or for the gate). Torch is imported only by the
functions that need it (the window imports the loop)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from unet_desktop.core.errors import FileError


class BoundedCache:
    """Least recently used entries go first once the bytes exceed the budget. Keys are tuples
    whose second item is the image's key (see :meth:`forget`); the caller holds the lock."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self.nbytes = 0

    def get(self, key: tuple) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: tuple, value: Any, nbytes: int, budget: int) -> None:
        self.pop(key)
        if nbytes > budget:
            return
        self._items[key] = (value, nbytes)
        self.nbytes += nbytes
        while self.nbytes > budget:
            self.pop(next(iter(self._items)))

    def pop(self, key: tuple) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.nbytes -= item[1]

    def forget(self, image: str) -> None:
        """Every entry of ``image`` (its mask changed)."""
        for key in [k for k in self._items if k[1] == image]:
            self.pop(key)


def sample_bytes(sample: Any) -> int:
    return int(sample.image.numel() * sample.image.element_size()
               + sample.target.numel() * sample.target.element_size())


def skipped(key: str, exc: Exception) -> Any:
    """An ``ml.reports.SkippedPair`` naming the file (or the key) and the reason."""
    from unet_desktop.ml.reports import SkippedPair

    if isinstance(exc, FileError):
        return SkippedPair(key, exc.path, exc.reason)
    return SkippedPair(key, key, str(exc) if isinstance(exc, ValueError) else "not in the folder")
