"""Why this window may not write the open folder: one wording for the banner, the task's edits
(File > New Task, Mask > Classes), Training > Fine-tune and Learn as I Correct."""

from __future__ import annotations

from typing import Any


def read_only_reason(ws: Any) -> str | None:
    """Why nothing may be written in the workspace ``ws`` from this window, naming the window
    that writes it when another does; None when it may be written."""
    if ws is None or not ws.read_only:
        return None
    holder = ws.lock_holder
    if holder is not None:
        return f"this folder is read-only here: it is open in another window, {holder.describe()}"
    return "this folder is read-only: its disk or share is read-only, or you may not write it"
