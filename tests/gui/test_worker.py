"""The model worker thread: priorities, superseding, long jobs stepped between others, errors."""

from __future__ import annotations

import threading

import pytest

from tests.gui.helpers import block
from unet_desktop.core.errors import ImageReadError
from unet_desktop.gui.worker import CANCELLED, DONE, FAILED, SUPERSEDED, Priority, Worker

TIMEOUT_MS = 5000


@pytest.fixture
def worker(qtbot):
    w = Worker()
    yield w
    assert w.shutdown(5.0)


def test_results_arrive_on_the_ui_thread_from_the_worker_thread(qtbot, worker):
    ran_on, delivered_on = [], []

    def job(token):
        ran_on.append(threading.current_thread())
        return 42

    with qtbot.waitSignal(worker.job_finished, timeout=TIMEOUT_MS) as finished:
        worker.submit(job, on_result=lambda r: delivered_on.append((r, threading.current_thread())))
    assert finished.args[0].state == DONE and finished.args[0].result == 42
    assert ran_on[0] is not threading.main_thread()
    assert delivered_on == [(42, threading.main_thread())]


def test_more_urgent_jobs_run_first(qtbot, worker):
    order = []
    gate = block(worker)
    for name, priority in (("prefetch", Priority.PREFETCH), ("background", Priority.BACKGROUND),
                           ("interactive", Priority.INTERACTIVE), ("control", Priority.CONTROL)):
        worker.submit(lambda token, n=name: order.append(n), priority, name=name)
    gate.set()
    qtbot.waitUntil(worker.is_idle, timeout=TIMEOUT_MS)
    assert order == ["control", "interactive", "prefetch", "background"]


def test_discarded_jobs_never_run(qtbot, worker):
    ran, discarded = [], []
    worker.job_discarded.connect(lambda job: discarded.append(job.tag))
    gate = block(worker)
    jobs = [worker.submit(lambda token, k=k: ran.append(k), Priority.INTERACTIVE,
                          group="predict", tag=k) for k in ("a", "b")]
    worker.discard("predict")
    delivered = []
    worker.submit(lambda token: ran.append("c"), Priority.INTERACTIVE, group="predict", tag="c",
                  on_finished=delivered.append)
    gate.set()
    qtbot.waitUntil(lambda: bool(delivered), timeout=TIMEOUT_MS)
    assert ran == ["c"]
    assert [j.state for j in jobs] == [SUPERSEDED, SUPERSEDED]
    assert discarded == ["a", "b"]


def test_a_cancelled_pending_job_never_runs(qtbot, worker):
    ran = []
    gate = block(worker)
    job = worker.submit(lambda token: ran.append(1))
    job.cancel()
    gate.set()
    qtbot.waitUntil(lambda: job.finished, timeout=TIMEOUT_MS)
    assert job.state == CANCELLED and ran == []


def test_urgent_jobs_run_between_the_steps_of_a_long_job(qtbot, worker):
    log: list[str] = []
    step_gate = threading.Event()

    def long_job(token):
        for i in range(3):
            log.append(f"step {i}")
            if i == 0:
                step_gate.wait(5.0)  # the test submits the urgent job during this step
            yield i

    reports = []
    long = worker.submit(long_job, on_progress=reports.append)
    qtbot.waitUntil(lambda: log == ["step 0"], timeout=TIMEOUT_MS)
    urgent = worker.submit(lambda token: log.append("urgent"), Priority.INTERACTIVE)
    step_gate.set()
    qtbot.waitUntil(lambda: long.finished and urgent.finished, timeout=TIMEOUT_MS)
    assert log == ["step 0", "urgent", "step 1", "step 2"]
    assert reports == [0, 1, 2] and long.state == DONE


def test_every_report_of_a_fast_job_arrives_in_order(qtbot, worker):
    reports = []

    def chatty(token):
        yield from range(2000)

    delivered = []  # on_finished runs on the UI thread after every progress callback
    worker.submit(chatty, on_progress=reports.append, on_finished=delivered.append)
    qtbot.waitUntil(lambda: bool(delivered), timeout=TIMEOUT_MS)
    assert reports == list(range(2000))


def test_a_long_job_sees_its_cancel_token(qtbot, worker):
    def until_cancelled(token):
        while not token.cancelled:
            yield "working"
        yield "stopped cleanly"

    reports, delivered = [], []
    job = worker.submit(until_cancelled, on_progress=reports.append, on_finished=delivered.append)
    qtbot.waitUntil(lambda: len(reports) > 3, timeout=TIMEOUT_MS)
    job.cancel()
    qtbot.waitUntil(lambda: bool(delivered), timeout=TIMEOUT_MS)
    assert job.state == CANCELLED and reports[-1] == "stopped cleanly"


@pytest.mark.reliability("concurrency", "a failing job does not stop the worker")
def test_a_failing_job_reports_its_error_and_the_worker_goes_on(qtbot, worker):
    errors = []

    def broken(token):
        raise ImageReadError("/data/a.png", "not an image")

    failed = worker.submit(broken, on_error=errors.append)
    after = worker.submit(lambda token: "still alive")
    qtbot.waitUntil(lambda: after.finished, timeout=TIMEOUT_MS)
    assert failed.state == FAILED
    assert errors == ["/data/a.png: not an image"]
    assert after.result == "still alive"


def test_shutdown_closes_a_suspended_long_job_on_the_worker_thread(qtbot):
    closed_on = []
    worker = Worker()

    def long_job(token):
        try:
            while True:
                yield "step"
        finally:
            closed_on.append(threading.current_thread().name)

    job = worker.submit(long_job)
    qtbot.waitUntil(lambda: job.steps > 2, timeout=TIMEOUT_MS)
    assert worker.shutdown(5.0)
    assert closed_on == ["model-worker"]
    with pytest.raises(RuntimeError, match="shut down"):
        worker.submit(lambda token: None)
