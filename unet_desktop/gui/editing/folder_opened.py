"""What the status bar says when a folder opens: its size, layout and task, the files skipped
(the first one named, with the reason), the workspace's warnings and the edits recovered."""

from __future__ import annotations

from typing import Any


def opened_message(ws: Any, recovered: list[str]) -> str:
    unset = ws.task is None and not any(e.has_mask for e in ws.entries)  # nothing says
    kind = "no task yet: File > New Task..." if unset else ws.scheme.kind
    notes = [f"Opened {ws.root} ({_images_text(ws)}, {ws.layout} layout, {kind})"]
    if ws.skipped:
        path, reason = ws.skipped[0]
        notes.append(f"{_count(len(ws.skipped), 'file')} skipped ({path.name}: {reason})")
    notes.extend(ws.warnings)
    if recovered:
        notes.append(f"Recovered unsaved edits of {len(recovered)} image(s) from the last "
                     f"session: {', '.join(recovered[:5])}")
    return "; ".join(notes)


def _images_text(ws: Any) -> str:
    """``6 images``; with a multi-page TIFF, whose slices the file list shows one by one,
    ``6 images (2 files, 1 stack)``."""
    files = {e.image_path for e in ws.entries}
    stacks = {e.image_path for e in ws.entries if e.is_slice}
    text = _count(len(ws), "image")
    if stacks:
        text += f" ({_count(len(files), 'file')}, {_count(len(stacks), 'stack')})"
    return text


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
