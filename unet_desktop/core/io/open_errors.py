"""Why a file could not be opened or decoded, in the words every reader reports: the usual
reasons a file cannot be opened at all, and any other exception named with its details."""

from __future__ import annotations


def access_reason(exc: BaseException) -> str | None:
    """The reason for a file that is missing, a folder, or not readable by this user; ``None``
    for any other failure (the caller's reader says what went wrong with the content)."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return None


def describe(exc: BaseException) -> str:
    """``"<type>: <message>"``, or the type alone when the message is empty."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
