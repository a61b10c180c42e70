"""The one background thread that owns the model and runs every inference and training job.

Jobs are functions of a :class:`CancelToken`. A job that returns a generator is a long job
(batch prediction, fine-tuning): the worker advances it one ``next()`` at a time and lets any
more urgent job run between two steps, so the image the user is looking at gets its prediction
even while a batch or a training run is going. Each step's report, the result and any error
arrive on the UI thread through the job's callbacks; progress is batched so that a fast job
never floods the event loop (one pending delivery per job at most).

Scheduling: lowest :class:`Priority` first, then submission order. ``discard(group)`` drops the
pending (not yet started) jobs of a group: that is how a newer prediction request supersedes an
older one. Nothing here imports torch at module level; ``torch_threads`` limits torch's
intra-op threads from the worker (importing torch there when the first job arrives, never
before) so that the UI keeps a core and the window opens without waiting for torch.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QObject, Signal

from unet_desktop.core.errors import UnetDesktopError
from unet_desktop.core.progress import Cancelled, CancelToken

log = logging.getLogger(__name__)


class Priority(IntEnum):
    CONTROL = 0  # load or swap a model: everything after it should use the new one
    INTERACTIVE = 1  # the image on screen
    PREFETCH = 2  # its neighbours
    BACKGROUND = 3  # long jobs, stepped between the others


PENDING, RUNNING, DONE, FAILED, CANCELLED, SUPERSEDED = (
    "pending", "running", "done", "failed", "cancelled", "superseded")
_FINAL = (DONE, FAILED, CANCELLED, SUPERSEDED)


def default_torch_threads() -> int:
    """Leave one core to the UI thread."""
    return max(1, (os.cpu_count() or 2) - 1)


def error_message(exc: BaseException) -> str:
    """What the user reads: our errors already say "<path>: <reason>"; others get their type."""
    from unet_desktop.core.errors import FileError

    if isinstance(exc, (FileError, ValueError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass(eq=False)
class Job:
    """One unit of work; callbacks run on the UI thread. Use :meth:`Worker.submit`."""

    fn: Callable[[CancelToken], Any]
    priority: int
    group: str | None = None
    name: str = ""
    tag: Any = None  # free for the submitter (e.g. the image key)
    on_progress: Callable[[Any], None] | None = None
    on_result: Callable[[Any], None] | None = None
    on_error: Callable[[str], None] | None = None
    on_finished: Callable[[Job], None] | None = None  # always last, whatever the outcome
    token: CancelToken = field(default_factory=CancelToken)
    state: str = PENDING
    result: Any = None
    error: str = ""
    started: bool = False  # its function has been called
    steps: int = 0  # reports yielded so far (long jobs)
    _generator: Iterator[Any] | None = field(default=None, repr=False)
    _outbox: list[tuple[str, Any]] = field(default_factory=list, repr=False)
    _delivery_queued: bool = field(default=False, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in _FINAL

    def cancel(self) -> None:
        """Ask the job to stop: a pending job never starts; a running one sees its token."""
        self.token.cancel()


class Worker(QObject):
    """A single thread that runs :class:`Job` objects by priority (see the module docstring)."""

    job_started = Signal(object)  # Job, emitted on the UI thread when its first step is known
    job_finished = Signal(object)  # Job, after its callbacks
    job_discarded = Signal(object)  # Job superseded or cancelled before it started
    _deliver = Signal(object)  # Job with something in its outbox (worker -> UI thread)

    def __init__(self, torch_threads: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._torch_threads = torch_threads
        if torch_threads and "torch" in sys.modules:
            # now, from this thread: resizing torch's pool while another thread runs torch
            # ops can crash; without torch imported nobody can be running any
            sys.modules["torch"].set_num_threads(torch_threads)
            self._torch_threads = None
        self._cond = threading.Condition()
        self._heap: list[tuple[int, int, Job]] = []
        self._seq = itertools.count()
        self._running: Job | None = None
        self._stopping = False
        self._deliver.connect(self._on_delivery)
        self._thread = threading.Thread(target=self._loop, name="model-worker", daemon=True)
        self._thread.start()

    # --- submitting (UI thread) -----------------------------------------------------------------
    def submit(self, fn: Callable[[CancelToken], Any], priority: int = Priority.BACKGROUND, *,
               group: str | None = None, name: str = "", tag: Any = None,
               on_progress: Callable[[Any], None] | None = None,
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None,
               on_finished: Callable[[Job], None] | None = None) -> Job:
        """Queue ``fn(token)``; returns the :class:`Job` (cancel it with ``job.cancel()``)."""
        job = Job(fn, int(priority), group, name or getattr(fn, "__name__", "job"), tag,
                  on_progress, on_result, on_error, on_finished)
        with self._cond:
            if self._stopping:
                raise RuntimeError("the worker has been shut down")
            heapq.heappush(self._heap, (job.priority, next(self._seq), job))
            self._cond.notify()
        return job

    def discard(self, group: str, keep: Callable[[Job], bool] | None = None) -> list[Job]:
        """Drop the pending jobs of ``group`` (except those ``keep`` accepts); returns them."""
        dropped = []
        with self._cond:
            for _, _, job in self._heap:
                if job.group == group and job.state == PENDING and job._generator is None \
                        and not (keep and keep(job)):
                    job.state = SUPERSEDED
                    dropped.append(job)
        for job in dropped:
            self._finish_on_ui(job)
        return dropped

    def pending(self, group: str | None = None) -> list[Job]:
        """Jobs waiting to start (or, for long jobs, to take their next step), in run order."""
        with self._cond:
            items = sorted(self._heap, key=lambda item: item[:2])
        return [j for _, _, j in items if j.state == PENDING and (group is None or j.group == group)]

    @property
    def running(self) -> Job | None:
        return self._running

    @property
    def stopping(self) -> bool:
        """True once :meth:`shutdown` was called: :meth:`submit` refuses new jobs."""
        return self._stopping

    def is_idle(self) -> bool:
        with self._cond:
            return self._running is None and not any(j.state == PENDING for *_, j in self._heap)

    def wait_until_finished(self, job: Job, timeout: float) -> bool:
        """Block until ``job`` ended on the worker thread (its callbacks arrive later, on the UI
        thread), at most ``timeout`` seconds; True if it did. For a cancelled long job whose
        next step must end before something it uses goes (a folder it writes)."""
        with self._cond:
            return self._cond.wait_for(lambda: job.finished, timeout)

    def deliver_now(self, job: Job) -> None:
        """Run what ``job`` has waiting for the UI thread (reports, its end) now, from the UI
        thread: closing, when the event loop will not run again to deliver it."""
        self._on_delivery(job)

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Cancel everything, let the running step end, close open generators; True if joined."""
        with self._cond:
            self._stopping = True
            for _, _, job in self._heap:
                job.cancel()
            if self._running is not None:
                self._running.cancel()
            self._cond.notify_all()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # --- the worker thread ------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                if job is None:
                    break
                self._running = job
            if self._torch_threads:  # first job: import torch here, off the UI thread, and
                self._limit_torch_threads()  # only once there is work (the window opens first)
            try:
                self._step(job)
            finally:
                with self._cond:
                    self._running = None
        self._close_all()

    def _limit_torch_threads(self) -> None:
        import torch

        torch.set_num_threads(self._torch_threads)
        self._torch_threads = None

    def _next_job(self) -> Job | None:
        """Pop the most urgent runnable job (waiting for one); None once stopping."""
        while True:
            while self._heap and not self._stopping:
                _, _, job = heapq.heappop(self._heap)
                if job.state != PENDING:
                    continue
                if job.token.cancelled and job._generator is None:
                    job.state = CANCELLED
                    self._cond.notify_all()  # wait_until_finished
                    self._post(job, "finished", None)
                    continue
                job.state = RUNNING
                return job
            if self._stopping:
                return None
            self._cond.wait()

    def _step(self, job: Job) -> None:
        try:
            if job._generator is None:
                job.started = True
                self._post(job, "started", None)
                out = job.fn(job.token)
                if not inspect.isgenerator(out):
                    self._complete(job, DONE, out)
                    return
                job._generator = out
            report = next(job._generator)
        except StopIteration as stop:
            self._complete(job, CANCELLED if job.token.cancelled else DONE, stop.value)
            return
        except Cancelled:
            self._complete(job, CANCELLED, None)
            return
        except Exception as exc:  # the job failed; the worker goes on
            if isinstance(exc, UnetDesktopError):  # the user's files: the message says it all
                log.warning("job %s failed: %s", job.name, exc)
            else:  # a bug: its traceback
                log.exception("job %s failed", job.name)
            job.error = error_message(exc)
            self._complete(job, FAILED, None)
            return
        job.steps += 1
        self._post(job, "progress", report)
        with self._cond:  # back into the queue: more urgent jobs run before its next step
            job.state = PENDING
            heapq.heappush(self._heap, (job.priority, next(self._seq), job))

    def _complete(self, job: Job, state: str, result: Any) -> None:
        with self._cond:
            job.result = result
            job.state = state
            job._generator = None
            self._cond.notify_all()  # wait_until_finished
        self._post(job, "finished", None)

    def _close_all(self) -> None:
        """On shutdown: close suspended generators here, on the thread that ran them."""
        for _, _, job in self._heap:
            if job._generator is not None:
                try:
                    job._generator.close()
                except Exception:  # closing one must not stop the others
                    log.exception("closing job %s failed", job.name)
                job._generator = None
            if not job.finished:
                job.state = CANCELLED
        self._heap.clear()

    def _post(self, job: Job, kind: str, value: Any) -> None:
        """Hand something to the UI thread; at most one queued delivery per job."""
        with self._cond:
            job._outbox.append((kind, value))
            if job._delivery_queued:
                return
            job._delivery_queued = True
        try:
            self._deliver.emit(job)
        except RuntimeError:  # the QObject is gone (application closing)
            pass

    # --- the UI thread ----------------------------------------------------------------------------
    def _finish_on_ui(self, job: Job) -> None:
        if job.state == SUPERSEDED:
            self.job_discarded.emit(job)
        self._run_callbacks(job, [("finished", None)])

    def _on_delivery(self, job: Job) -> None:
        with self._cond:
            items, job._outbox = job._outbox, []
            job._delivery_queued = False
        self._run_callbacks(job, items)

    def _run_callbacks(self, job: Job, items: list[tuple[str, Any]]) -> None:
        for kind, value in items:
            if kind == "started":
                self.job_started.emit(job)
            elif kind == "progress":
                if job.on_progress is not None:
                    job.on_progress(value)
            elif kind == "finished":
                if job.state == CANCELLED and not job.started:
                    self.job_discarded.emit(job)
                try:  # a callback that raises still reaches the excepthook, after on_finished
                    if job.state == DONE and job.on_result is not None:
                        job.on_result(job.result)
                    elif job.state == FAILED and job.on_error is not None:
                        job.on_error(job.error)
                finally:
                    if job.on_finished is not None:
                        job.on_finished(job)
                    self.job_finished.emit(job)
