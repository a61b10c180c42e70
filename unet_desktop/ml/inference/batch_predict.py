"""Predict a whole folder (or workspace) as a generator of progress reports.

The same generator serves the GUI (a worker iterates it), the CLI (a progress bar) and tests.
This module picks the output and the jobs; the rest is one concern each:

- :mod:`~unet_desktop.ml.inference.batch_workspace`: a :class:`Workspace` source, masks saved
  through the workspace (``predicted``, never over ``corrected`` or ``verified`` masks).
- :mod:`~unet_desktop.ml.inference.batch_folder`: a folder, single image or list of images,
  ``<stem>.png`` masks written into ``out_dir`` with the record of
  :mod:`~unet_desktop.ml.inference.prediction_record` (a second run resumes).
- :mod:`~unet_desktop.ml.inference.batch_pipeline`: decode on a thread pool, predict in
  batches, write on a background thread; cancelling (a :class:`CancelToken`, or closing the
  generator) stops after the current batch, then a last report with ``cancelled=True``.
- :mod:`~unet_desktop.ml.inference.batch_progress`: the reports (:class:`BatchProgress`,
  :class:`ItemResult`).

``protect(key) -> True`` (e.g. the image being edited in the window) is asked right before each
write, in either mode; such an image is skipped with the reason "being edited". It is called on
the writer thread (under the workspace's write lock in workspace mode), so it must be
thread-safe and must not wait for other threads. Under ``torchrun`` (``RANK``/``WORLD_SIZE``
set) rank ``r`` takes items ``r::world_size`` and keeps its own record file. Unreadable images
are reported (path and reason) and skipped. An image whose values go beyond the range the
model's input rule fixes (``InputRule.beyond_range``) is predicted as the model sees it,
saturated, and its result says so in ``reason`` (the pipeline notes it when it decodes).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence

from unet_desktop.core.folder.workspace import Workspace
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.batch_folder import FolderOutput
from unet_desktop.ml.inference.batch_pipeline import run_pipeline
from unet_desktop.ml.inference.batch_progress import BatchJob, BatchProgress, ItemResult, count
from unet_desktop.ml.inference.batch_workspace import WorkspaceOutput
from unet_desktop.ml.inference.predictor import Predictor


def distributed_shard() -> tuple[int, int]:
    """(rank, world_size) from torchrun's environment, (0, 1) when not distributed."""
    return int(os.environ.get("RANK", "0") or 0), int(os.environ.get("WORLD_SIZE", "1") or 1)


def batch_predict(
    predictor: Predictor,
    source: Workspace | str | os.PathLike | Sequence[str | os.PathLike],
    out_dir: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
    write_probs: bool = False,
    cancel: CancelToken | None = None,
    decode_workers: int = 2,
    rank: int | None = None,
    world_size: int | None = None,
    protect: Callable[[str], bool] | None = None,
) -> Iterator[BatchProgress]:
    """Predict every image of ``source``; yields a :class:`BatchProgress` after each batch.

    ``source`` is a :class:`Workspace`, a folder, one image file, or a list of image files;
    ``out_dir`` is required for all but a workspace. ``protect(key)`` True: do not write that
    image's mask (asked right before each write). See the module docstring for the rules.
    """
    env_rank, env_world = distributed_shard()
    rank = env_rank if rank is None else rank
    world_size = env_world if world_size is None else world_size
    protect = protect or (lambda key: False)
    if isinstance(source, Workspace):
        output = WorkspaceOutput(predictor, source, world_size, write_probs, protect)
    else:
        output = FolderOutput(predictor, source, out_dir, rank, world_size, protect)
    jobs = output.jobs[rank::world_size]

    progress = BatchProgress(done=0, total=len(jobs))
    todo: list[BatchJob] = []
    for job in jobs:
        reason = output.skip_reason(job, overwrite)
        if reason:
            count(progress, ItemResult(job.key, job.image_path, "skipped", reason))
        else:
            todo.append(job)
    yield from run_pipeline(predictor, output, todo, progress, cancel or CancelToken(),
                            write_probs, decode_workers)
