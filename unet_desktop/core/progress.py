"""Progress and cancellation for long work written as generators or with callbacks."""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside long work when its :class:`CancelToken` has been set."""


class CancelToken:
    """Thread-safe flag that long work checks between steps (``raise_if_cancelled``)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class EitherToken(CancelToken):
    """Cancelled when any of ``tokens`` is (a job's own token and its run's, for example)."""

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    @property
    def cancelled(self) -> bool:
        return self._event.is_set() or any(t.cancelled for t in self._tokens)

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled()
