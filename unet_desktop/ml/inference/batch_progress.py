"""What a batch prediction reports and hands around: one :class:`ItemResult` per image, a
:class:`BatchProgress` after each batch, and the :class:`BatchJob` (one image, or one slice of a
multi-page TIFF) that the folder and workspace outputs give the pipeline."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Literal

Status = Literal["predicted", "skipped", "failed"]
BEING_EDITED = "being edited"  # the skip reason of an image that ``protect`` keeps


@dataclasses.dataclass
class ItemResult:
    """What happened to one image. ``reason`` explains a skip or a failure."""

    key: str
    image_path: Path
    status: Status
    reason: str = ""
    output: Path | None = None
    score: float | None = None


@dataclasses.dataclass
class BatchProgress:
    done: int
    total: int
    predicted: int = 0
    skipped: int = 0
    failed: int = 0
    results: list[ItemResult] = dataclasses.field(default_factory=list)  # finished since the last report
    elapsed_s: float = 0.0
    finished: bool = False
    cancelled: bool = False


@dataclasses.dataclass
class BatchJob:
    key: str
    image_path: Path
    target: Path | None = None  # folder mode: the mask file to write
    page: int | None = None  # a slice of a multi-page TIFF (its target is the mask stack)
    pages: int = 1


def count(progress: BatchProgress, result: ItemResult) -> None:
    """Add one finished image to the running tally."""
    progress.results.append(result)
    progress.done += 1
    if result.status == "predicted":
        progress.predicted += 1
    elif result.status == "skipped":
        progress.skipped += 1
    else:
        progress.failed += 1


def snapshot(progress: BatchProgress, start: float) -> BatchProgress:
    """A snapshot to hand out; the running tally starts a new list of results."""
    progress.elapsed_s = time.perf_counter() - start
    report = dataclasses.replace(progress, results=progress.results)
    progress.results = []
    return report


def files_with(file_statuses: dict[Path, set[str]], status: str) -> int:
    """How many image files ended ``status``, from each file's results (a stack's slices): a
    file is "predicted" when any of its slices was (its mask stack is written), else "failed"
    when any failed, else "skipped". The CLI and the Batch Predict dialog count alike."""
    return sum(_file_status(s) == status for s in file_statuses.values())


def _file_status(statuses: set[str]) -> str:
    if "predicted" in statuses:
        return "predicted"
    return "failed" if "failed" in statuses else "skipped"
