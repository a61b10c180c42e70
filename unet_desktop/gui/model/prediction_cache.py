"""A bounded LRU cache of predictions keyed by (image key, model version). Qt-free, thread-safe.

The worker thread fills it (a prediction or a prefetch), the UI thread reads it; the bound is in
bytes, because one prediction of a 24-megapixel image outweighs a hundred small ones.

Each :meth:`PredictionCache.clear` starts a new ``epoch``: a job that started before it (the old
folder's, the old mode's) passes the epoch it saw to :meth:`PredictionCache.put` and its result
is dropped, so it never answers for an image of the same name in the folder opened since.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def prediction_nbytes(prediction: Any) -> int:
    """Bytes held by a prediction's arrays (labels, uncertainty, and probabilities if kept)."""
    total = 0
    for name in ("labels", "probs", "uncertainty"):
        array = getattr(prediction, name, None)
        if array is not None:
            total += int(array.nbytes)
    return total


class PredictionCache:
    """Least recently used entries are evicted once ``max_bytes`` or ``max_items`` is exceeded."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, max_items: int | None = None) -> None:
        if max_bytes < 0 or (max_items is not None and max_items < 0):
            raise ValueError("cache limits must not be negative")
        self.max_bytes = max_bytes
        self.max_items = max_items
        self._items: OrderedDict[tuple[str, str], tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._epoch = 0
        self._lock = threading.Lock()

    @property
    def epoch(self) -> int:
        """How many times the cache was cleared: what a job passes to :meth:`put`."""
        return self._epoch

    def get(self, key: str, version: str) -> Any | None:
        with self._lock:
            item = self._items.get((key, version))
            if item is None:
                return None
            self._items.move_to_end((key, version))
            return item[0]

    def __contains__(self, key_version: tuple[str, str]) -> bool:
        with self._lock:
            return key_version in self._items

    def put(self, key: str, version: str, prediction: Any, epoch: int | None = None) -> None:
        """Store (replacing an older entry for the same key and version), then evict; nothing
        if the cache was cleared since ``epoch``."""
        size = prediction_nbytes(prediction)
        with self._lock:
            if epoch is not None and epoch != self._epoch:
                return  # made for what the cache held before it was cleared
            old = self._items.pop((key, version), None)
            if old is not None:
                self._bytes -= old[1]
            if size > self.max_bytes:
                return  # larger than the whole cache: keeping it would evict everything
            self._items[(key, version)] = (prediction, size)
            self._bytes += size
            while self._items and (self._bytes > self.max_bytes or (
                    self.max_items is not None and len(self._items) > self.max_items)):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def scores(self, version: str) -> dict[str, float]:
        """Image key -> uncertainty score of the cached predictions of one model version."""
        with self._lock:
            return {k: float(p.score) for (k, v), (p, _) in self._items.items() if v == version}

    def entries(self) -> list[tuple[str, str]]:
        """(image key, version) pairs, least recently used first."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._items.clear()
            self._bytes = 0

    @property
    def nbytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
