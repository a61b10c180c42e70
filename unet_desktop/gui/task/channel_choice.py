"""The channels a task feeds its models, against the channels the folder's images have.

A task's input rule (:class:`~unet_desktop.core.io.input_rule.InputRule`) without a channel
choice takes gray or RGB images; the folder lists an image of 2 or more than 3 channels as
skipped (:func:`unet_desktop.core.folder.folder_open.channel_misfits`). So New Task proposes a
channel when most of the folder's image files have such counts, refuses a rule that fits none
of them, and says which files a rule leaves out. Qt-free: counts come from the TIFF headers the
folder's scan read (other formats read as gray or RGB and fit any rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from unet_desktop.core.folder.folder_open import channel_misfits
from unet_desktop.core.io.input_rule import DEFAULT_NEW, InputRule
from unet_desktop.core.io.model_header import model_metadata

FITS_AS_STORED = (1, 3)  # gray or RGB: what a rule without a channel choice takes


@dataclass(frozen=True)
class FolderChannels:
    """The channel count of each of a folder's image files (from its TIFF header);
    ``as_stored``: image files of other formats, read as gray or RGB."""

    counts: dict[str, int]  # file name -> channels
    as_stored: int = 0

    @property
    def files(self) -> int:
        return len(self.counts) + self.as_stored

    @classmethod
    def of_workspace(cls, ws) -> FolderChannels:
        """The files a workspace lists and those the task's channels left out, with the counts
        its scan read from their headers (none is read again: a folder may hold thousands)."""
        paths = [e.image_path for e in ws.entries] + [p for p, _ in channel_misfits(ws.skipped)]
        counts, as_stored = {}, 0
        for path in dict.fromkeys(paths):
            channels = ws.image_channels.get(path)
            if channels is None:
                as_stored += 1
            else:
                counts[path.name] = channels
        return cls(counts, as_stored)

    def left_out(self, rule: InputRule) -> list[tuple[str, str]]:
        """The files ``rule`` leaves out, each with the reason (it names its channel count)."""
        return [(name, reason) for name, count in self.counts.items()
                if (reason := rule.misfit(count))]


def proposed_channels(folder: FolderChannels) -> tuple[tuple[int, ...] | None, str]:
    """The channels (0-based) a new task proposes, and a sentence saying why; (None, "") when
    most image files are gray or RGB, which need no choice."""
    many = {name: c for name, c in folder.counts.items() if c not in FITS_AS_STORED}
    if not many or 2 * len(many) <= folder.files:
        return None, ""
    name, count = next(iter(many.items()))
    counts = " or ".join(str(c) for c in sorted(set(many.values())))
    three = ", or three as 1,2,3" if min(many.values()) > 3 else ""
    return (0,), (f"{len(many)} of the folder's {folder.files} image file(s) have {counts} "
                  f"channels ({name}: {count}). A model takes one channel or three, so "
                  f"Channels proposes 1: type the channel that shows what you label (e.g. 2)"
                  f"{three}.")


def model_channels(path: str | Path) -> tuple[int, ...] | None:
    """The channels (0-based) a model file's input rule takes; None when it takes gray or RGB
    as stored (or its rule cannot be read: loading it says why)."""
    meta = model_metadata(path)
    try:
        return InputRule.from_dict(meta.get("input_rule")).channels if meta else None
    except (ValueError, TypeError):
        return None


def rule_of_channels(channels: tuple[int, ...] | None) -> dict:
    """The input rule a task records for ``channels``: they decide which images the folder
    lists (a new model also takes them; a model file keeps its own rule, whose channels these
    are). {} for gray or RGB as stored."""
    return InputRule(DEFAULT_NEW, channels=channels).to_dict() if channels else {}


def fit_problem(rule: InputRule, folder: FolderChannels | None, from_model: bool = False
                ) -> str | None:
    """Why a task with ``rule`` would list none of the folder's images (None if one fits);
    ``from_model``: the task starts from a model file, whose channels (``rule``'s) it keeps."""
    if folder is None or not folder.files:
        return None
    out = folder.left_out(rule)
    if len(out) < folder.files:
        return None
    name, reason = out[0]
    if from_model:
        takes = ("gray or RGB images" if rule.channels is None else
                 f"channel(s) {', '.join(str(c + 1) for c in rule.channels)}")
        return (f"no image of this folder would be listed: {name} has {folder.counts[name]} "
                f"channels, and the model file takes {takes}; start from the "
                "ImageNet-pretrained encoder and choose the channels")
    return f"no image of this folder would be listed ({name}: {reason})"


def fit_note(rule: InputRule, folder: FolderChannels | None) -> str:
    """Which of the folder's image files ``rule`` leaves out, when some still fit ('' if none)."""
    if folder is None:
        return ""
    out = folder.left_out(rule)
    if not out or len(out) >= folder.files:
        return ""
    name, reason = out[0]
    return (f"{len(out)} of the folder's {folder.files} image file(s) will be skipped with "
            f"these channels ({name}: {reason})")


def skipped_text(ws) -> str:
    """The files an open folder's task channels leave out, named, with the first one's reason
    ('' when none)."""
    misfits = channel_misfits(ws.skipped)
    if not misfits:
        return ""
    names = ", ".join(p.name for p, _ in misfits[:3]) + (", ..." if len(misfits) > 3 else "")
    listed = "no image is listed" if not ws.entries else f"{len(ws.entries)} image(s) listed"
    return (f"{len(misfits)} image file(s) skipped, their channels do not fit the task "
            f"({names}; {misfits[0][0].name}: {misfits[0][1]}); {listed}")


def changes_listing(old: InputRule | None, new: InputRule, folder: FolderChannels) -> bool:
    """Whether a folder lists other images under ``new`` than under ``old`` (None: no task,
    which lists every image)."""
    before = set() if old is None else {name for name, _ in folder.left_out(old)}
    return before != {name for name, _ in folder.left_out(new)}
