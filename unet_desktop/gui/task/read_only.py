"""Why this window may not write the open folder: one wording for the banner, the task's edits
(File > New Task, Mask > Classes), Training > Fine-tune and Learn as I Correct."""

from __future__ import annotations

from typing import Any

from unet_desktop.core.folder.folder_lock import let_go


def read_only_reason(ws: Any) -> str | None:
    """Why nothing may be written in the workspace ``ws`` from this window, naming the window
    that writes it when another does (or did: once it let go, opening the folder again here
    writes it); None when it may be written."""
    if ws is None or not ws.read_only:
        return None
    holder = ws.lock_holder
    if holder is not None and let_go(ws.root, holder):
        return (f"this folder is read-only here: the window that wrote it ({holder.describe()}) "
                "no longer holds it; open the folder again here (File > Open Recent) to write it")
    if holder is not None:
        return f"this folder is read-only here: it is open in another window, {holder.describe()}"
    return "this folder is read-only: its disk or share is read-only, or you may not write it"
