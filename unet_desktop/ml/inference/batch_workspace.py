"""Batch prediction into a workspace: which images it predicts and how each mask is written.

Masks go through ``Workspace.save_mask`` with state ``predicted`` and the model version; images
marked ``corrected`` or ``verified`` are never overwritten (checked again right before each
write, under the workspace's write lock, so that a save by another thread cannot slip in
between); unless ``overwrite``, only images without a mask are predicted: those predicted by
this model version (a resumed run) or by another (an earlier model) keep their masks.
Each record is journalled before its mask is written (see
:mod:`unet_desktop.core.folder.manifest_writer`), so a run killed midway reopens with its masks
``predicted``, never taken for a person's ``corrected`` masks. A kept mask whose values do not
fit the folder's scheme is skipped and named with the reason (``Workspace.invalid``). A folder
with a task (``core.folder.task``) refuses a model with other classes than the task's, by the
window's rule (:func:`task_mismatch`: the task's own model fits after a rename). One process
predicts a workspace (its manifest is shared); no probabilities are written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unet_desktop.core.errors import FileError
from unet_desktop.core.folder.task import prediction_mismatch
from unet_desktop.core.folder.workspace import ImageState, Workspace
from unet_desktop.ml.inference.batch_folder import OTHER_MODEL, UP_TO_DATE
from unet_desktop.ml.inference.batch_progress import BEING_EDITED, BatchJob, ItemResult
from unet_desktop.ml.inference.predictor import Prediction, Predictor

_KEPT = (ImageState.CORRECTED, ImageState.VERIFIED)
CHANGED_ON_DISK = ("its mask changed on disk since this folder was opened (another window or "
                   "program saved it): left as it is")


def task_mismatch(predictor: Any, ws: Workspace) -> str | None:
    """Why ``predictor``'s predictions must not become the masks of ``ws``'s task (None: they
    may, or ``ws`` has no task): the window's rule, which knows the model by its file
    (``predictor.source``), so the task's own model fits after its classes were renamed."""
    if ws.task is None:
        return None
    return prediction_mismatch(ws.root, ws.task, getattr(predictor, "source", None),
                               predictor.meta.scheme)


def _skip_reason(ws: Workspace, key: str, version: str, overwrite: bool) -> str | None:
    entry = ws[key]
    if key in ws.invalid:
        return f"invalid mask, left as it is: {ws.invalid[key]}"
    if entry.state in _KEPT:
        return f"kept: marked {entry.state.value}"
    if overwrite or entry.state is not ImageState.PREDICTED:
        return None
    if entry.model_version == version:
        return UP_TO_DATE
    return (f"{OTHER_MODEL} ({entry.model_version or 'not recorded'}): kept (overwrite "
            "predicts it again)")


class WorkspaceOutput:
    """The jobs of a workspace and the writer of their masks (the pipeline's sink)."""

    def __init__(self, predictor: Predictor, ws: Workspace, world_size: int, write_probs: bool,
                 protect: Callable[[str], bool]):
        if world_size > 1:
            raise ValueError("a workspace is predicted by one process: its manifest is shared")
        if write_probs:
            raise ValueError("probabilities are written only in folder mode (out_dir)")
        mismatch = task_mismatch(predictor, ws)
        if mismatch:
            raise ValueError(f"{ws.root}: {mismatch}; its predictions are not written into "
                             "the task's masks (fine-tune a model of this task first)")
        ws.check_masks([e for e in ws.entries if e.state in _KEPT])  # named when skipped
        self.ws = ws
        self.version = predictor.meta.version
        self.protect = protect
        self.jobs = [BatchJob(e.key, e.image_path, page=e.page, pages=e.pages) for e in ws.entries]

    def skip_reason(self, job: BatchJob, overwrite: bool) -> str | None:
        """Why ``job`` is not predicted at all (None: it is)."""
        return _skip_reason(self.ws, job.key, self.version, overwrite)

    def write(self, items: list[tuple[BatchJob, Prediction]]) -> list[ItemResult]:
        with self.ws.deferred_manifest():  # one manifest write per batch
            return [self._write(job, pred) for job, pred in items]

    def _write(self, job: BatchJob, pred: Prediction) -> ItemResult:
        # under the write lock, no other thread saves (or starts editing) between check and write
        with self.ws.write_lock:
            reason = _skip_reason(self.ws, job.key, self.version, overwrite=True)
            if not reason and self.protect(job.key):
                reason = BEING_EDITED
            if not reason and self.ws.changed_on_disk(job.key):
                reason = CHANGED_ON_DISK
            if reason:  # the user marked or opened it while we were predicting
                return ItemResult(job.key, job.image_path, "skipped", reason)
            try:
                path = self.ws.save_mask(job.key, pred.labels, ImageState.PREDICTED,
                                         model_version=self.version, uncertainty=pred.score)
            except (FileError, OSError) as exc:
                return ItemResult(job.key, job.image_path, "failed", str(exc))
        return ItemResult(job.key, job.image_path, "predicted", output=path, score=pred.score)

    def slice_failed(self, job: BatchJob) -> list[ItemResult]:
        return []  # a slice's mask is a page of the workspace's mask stack, written alone

    def close(self) -> None:
        """Nothing to save: each batch wrote the manifest."""
