"""The decode -> predict -> write pipeline of a batch prediction.

Images are decoded on a thread pool, predicted in batches, and written on one background thread
by the run's output (``batch_folder.FolderOutput`` or ``batch_workspace.WorkspaceOutput``), so
the device never waits on the disk. An image that cannot be decoded, or whose channels do not fit
the model's input rule, fails alone with the reason. Cancelling stops after the current batch,
finishes the pending writes and closes the output (its record saved), then a last report with
``cancelled=True`` is yielded.

Memory: the predictor makes no uncertainty map (the writer needs its mean only) and makes the
probabilities, when written, in float16 as they are saved; a batch goes to the predictor in
runs of images whose outputs fit :data:`CALL_OUTPUT_BYTES` (small images share a forward pass,
a big one goes alone), each run handed to the writer as soon as it is predicted, and the
predictions waiting for the writer are at most :data:`WRITER_BACKLOG_BYTES` beyond one run's.
So a batch of big images holds two images' outputs at most (the one being written, the one
being predicted), not the batch's (four 8000 x 8000 images with probabilities: 4 x 768 MB of
float32 at once, and more in the writer's queue).
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np

from unet_desktop.core.errors import FileError
from unet_desktop.core.io.imageio import read_image_raw
from unet_desktop.core.io.input_rule import InputRule
from unet_desktop.core.io.stacks import is_tiff_name, read_slice, read_tiff_image
from unet_desktop.core.progress import CancelToken
from unet_desktop.ml.inference.batch_progress import (
    BatchJob,
    BatchProgress,
    ItemResult,
    count,
    snapshot,
)
from unet_desktop.ml.inference.predictor import Prediction, Predictor


class Output(Protocol):
    """Where the masks go (called on the writer thread). The predictions it gets hold labels,
    probabilities (when asked, in float16) and score, not the uncertainty map."""

    def write(self, items: list[tuple[BatchJob, Prediction]]) -> list[ItemResult]: ...

    def slice_failed(self, job: BatchJob) -> list[ItemResult]: ...

    def close(self) -> None: ...


def _decode(job: BatchJob) -> np.ndarray:
    """The image's stored values (the predictor applies its model's input rule)."""
    if job.page is not None:
        return read_slice(job.image_path, job.page)
    if is_tiff_name(job.image_path):
        return read_tiff_image(job.image_path)
    return read_image_raw(job.image_path)


def _decode_fitting(job: BatchJob, rule: InputRule) -> tuple[np.ndarray, str | None]:
    """:func:`_decode`, and an image whose channels do not fit the model's rule raises here (on
    the decode thread), so that it fails alone, with the reason; with the values, why the model
    sees them saturated (:meth:`InputRule.beyond_range`), or None."""
    values = _decode(job)
    rule.pick_channels(values, job.image_path)
    return values, rule.beyond_range(values)


def _write_noting(output: Output, items: list[tuple[BatchJob, Prediction]],
                  notes: list[str | None]) -> list[ItemResult]:
    """``output.write(items)``, each mask written from an image beyond the model's range with
    that in its result's ``reason`` (after what the output said of the write, e.g. the copy
    it kept of a mask it replaced)."""
    results = output.write(items)
    for result, note in zip(results, notes):
        if note and result.status == "predicted":
            result.reason = f"{result.reason}; {note}" if result.reason else note
    return results


LOOK_AHEAD_PIXELS = 256_000_000  # decoded images kept waiting, at most (about 0.5 GB at 16 bits)


def look_ahead(batch_size: int, largest: int) -> int:
    """How many images to decode ahead: one batch until a size is known (``largest`` 0), then
    three batches, fewer when images of ``largest`` pixels would make them more than
    :data:`LOOK_AHEAD_PIXELS` (a batch at least)."""
    if largest <= 0:
        return batch_size
    return max(batch_size, min(3 * batch_size, LOOK_AHEAD_PIXELS // largest))


CALL_OUTPUT_BYTES = 64 * 2**20  # outputs of one predictor call, at most (one image at least)
WRITER_BACKLOG_BYTES = 256 * 2**20  # outputs waiting for the writer, at most (one call's at least)


def _for_writing(prediction: Prediction) -> Prediction:
    """``prediction`` without its uncertainty map, which no output writes (its mean is the
    score), should the predictor have made one."""
    return dataclasses.replace(prediction, uncertainty=np.empty((0, 0), np.float32))


def _pixels(values: np.ndarray) -> int:
    return int(np.prod(values.shape[:2]))


def _output_bytes(values: np.ndarray, classes: int, write_probs: bool) -> int:
    """What the writer gets for an image of ``values``: uint8 labels, float16 probabilities."""
    return _pixels(values) * (1 + (2 * classes if write_probs else 0))


Decoded = tuple[BatchJob, tuple[np.ndarray, str | None]]  # a job, its values and range note


def _next_call(batch: collections.deque[Decoded], budget: int,
               size: Callable[[np.ndarray], int]) -> list[Decoded]:
    """The first images of ``batch`` (taken out of it) whose outputs fit ``budget`` bytes
    together, one at least."""
    call = [batch.popleft()]
    total = size(call[0][1][0])
    while batch and total + size(batch[0][1][0]) <= budget:
        total += size(batch[0][1][0])
        call.append(batch.popleft())
    return call


def _hand_to_writer(predictor: Predictor, output: Output, writer: ThreadPoolExecutor,
                    call: list[Decoded], write_probs: bool) -> Future:
    """Predict the images of ``call`` in one predictor call and hand them to the writer (this
    function keeps no reference to them: the writer lets them go once written)."""
    preds = predictor.predict_batch([values for _, (values, _) in call], probs=write_probs,
                                    uncertainty=False, probs_dtype=np.float16)
    return writer.submit(_write_noting, output,
                         [(job, _for_writing(pred)) for (job, _), pred in zip(call, preds)],
                         [note for _, (_, note) in call])


def _must_wait(writing: collections.deque[tuple[Future, int]]) -> bool:
    """Whether the oldest write must end before the next prediction: three are waiting, or
    more than one and their outputs are over :data:`WRITER_BACKLOG_BYTES`."""
    held = sum(size for _, size in writing)
    return len(writing) > 2 or (len(writing) > 1 and held > WRITER_BACKLOG_BYTES)


def run_pipeline(predictor: Predictor, output: Output, todo: list[BatchJob],
                 progress: BatchProgress, cancel: CancelToken, write_probs: bool,
                 decode_workers: int) -> Iterator[BatchProgress]:
    """Predict the jobs ``todo``; yields a snapshot of ``progress`` after each batch."""
    start = time.perf_counter()
    batch_size = predictor.batch_size
    decoder = ThreadPoolExecutor(max(1, decode_workers), thread_name_prefix="decode")
    writer = ThreadPoolExecutor(1, thread_name_prefix="write")
    decoding: collections.deque[tuple[BatchJob, Future]] = collections.deque()
    writing: collections.deque[tuple[Future, int]] = collections.deque()  # and bytes held
    queue = iter(todo)
    largest = 0  # pixels of the largest image decoded so far
    classes = predictor.meta.num_classes if write_probs else 0

    def size(values: np.ndarray) -> int:
        return _output_bytes(values, classes, write_probs)

    def collect(future: Future) -> None:
        for result in future.result():
            count(progress, result)

    closed = False
    try:
        while True:
            while len(decoding) < look_ahead(batch_size, largest):  # keep the decoders ahead
                job = next(queue, None)
                if job is None:
                    break
                decoding.append((job, decoder.submit(_decode_fitting, job, predictor.meta.rule)))
            if not decoding or cancel.cancelled:
                break
            batch: collections.deque[Decoded] = collections.deque()
            while decoding and len(batch) < batch_size:
                job, future = decoding.popleft()
                try:
                    batch.append((job, future.result()))
                    largest = max(largest, _pixels(batch[-1][1][0]))
                except (FileError, OSError, ValueError) as exc:
                    count(progress, ItemResult(job.key, job.image_path, "failed", str(exc)))
                    if job.page is not None:
                        writing.append((writer.submit(output.slice_failed, job), 0))
            while batch:  # each call's images let go once predicted
                call = _next_call(batch, CALL_OUTPUT_BYTES, size)
                held = sum(size(values) for _, (values, _) in call)
                writing.append((_hand_to_writer(predictor, output, writer, call, write_probs),
                                held))
                del call
                while writing and (writing[0][0].done() or _must_wait(writing)):
                    collect(writing.popleft()[0])
            yield snapshot(progress, start)
        while writing:
            collect(writing.popleft()[0])
        closed = True
        try:
            output.close()
        except Exception:  # e.g. the record cannot be saved: first what was done, then why
            if progress.results:
                yield snapshot(progress, start)
            raise
    finally:
        for _, future in decoding:
            future.cancel()
        decoder.shutdown(wait=True)
        writer.shutdown(wait=True)
        for future, _ in writing:
            collect(future)
        if not closed:
            output.close()
    progress.cancelled = cancel.cancelled and progress.done < progress.total
    progress.finished = True
    yield snapshot(progress, start)
