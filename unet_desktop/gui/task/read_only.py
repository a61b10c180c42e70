"""Why this window may not write the open folder: one wording for the banner, the task's edits
(File > New Task, Mask > Classes), Training > Fine-tune and Learn as I Correct."""

from __future__ import annotations

from typing import Any

from unet_desktop.core.folder.folder_lock import holder_now


def read_only_reason(ws: Any) -> str | None:
    """Why nothing may be written in the workspace ``ws`` from this window, naming the window
    that writes it now when another does (the one that wrote it when it opened here, that one
    again after closing and opening it, or a third); once none does, opening the folder again
    here writes it. None when it may be written."""
    if ws is None or not ws.read_only:
        return None
    holder = ws.lock_holder
    if holder is None:
        return "this folder is read-only: its disk or share is read-only, or you may not write it"
    now = holder_now(ws.root)
    if now is None:
        return (f"this folder is read-only here: the window that wrote it ({holder.describe()}) "
                "no longer holds it; open the folder again here (File > Open Recent) to write it")
    return f"this folder is read-only here: it is open in another window, {now.describe()}"
