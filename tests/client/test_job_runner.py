"""The runner of named jobs: one queue per resource, side by side across resources, cancelled
results dropped, errors and progress delivered on the UI thread, the busy indicator."""

import threading
import time

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThread

from client.jobs.job import Job, device
from client.jobs.runner import JobRunner


class Step(Job):
    """Records when it ran; waits for ``gate`` if given; fails if asked."""

    def __init__(self, label: str, log: list, resource: str = "server", gate=None, fail=False):  # type: ignore[no-untyped-def]
        super().__init__()
        self.label, self.log, self.gate, self.fail = label, log, gate, fail
        self.resource = resource

    def run(self) -> str:
        self.log.append(("start", self.label, time.monotonic()))
        if self.gate is not None:
            assert self.gate.wait(10)
        self.report(f"{self.label} half way")
        time.sleep(0.02)
        self.log.append(("end", self.label, time.monotonic()))
        if self.fail:
            raise ValueError(f"{self.label} broke")
        return self.label


@pytest.fixture
def runner(qtbot) -> JobRunner:  # type: ignore[no-untyped-def]
    runner = JobRunner()
    yield runner
    runner.cancel_all()
    runner.wait(5000)


def test_jobs_of_one_resource_run_one_at_a_time_in_order(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    done: list[str] = []
    for label in "abcde":
        runner.submit(Step(label, log), done.append)
    assert runner.pending("server")[0] == "Step" and len(runner.pending("server")) == 5
    assert runner.wait(10000)
    assert done == list("abcde")
    events = [(kind, label) for kind, label, _ in log]
    assert events == [(k, x) for x in "abcde" for k in ("start", "end")]  # never overlapping


def test_different_resources_run_side_by_side(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    gate = threading.Event()
    # the server job holds until the device job has started: only possible in parallel
    runner.submit(Step("server", log, gate=gate))
    runner.submit(Step("port", log, resource=device("COM3")))
    qtbot.waitUntil(lambda: any(e[:2] == ("end", "port") for e in log), timeout=5000)
    assert ("end", "server") not in [e[:2] for e in log]
    gate.set()
    assert runner.wait(5000)


def test_cancelling_drops_queued_and_running_results(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    log: list = []
    done: list[str] = []
    gate = threading.Event()
    running = runner.submit(Step("running", log, gate=gate), done.append)
    queued = runner.submit(Step("queued", log), done.append)
    after = runner.submit(Step("after", log), done.append)
    qtbot.waitUntil(lambda: bool(log), timeout=5000)
    runner.cancel(running)
    runner.cancel(queued)
    gate.set()
    assert runner.wait(5000)
    assert done == ["after"]  # the running one finished, unheard; the queued one never ran
    assert "queued" not in [label for _, label, _ in log]
    assert running.cancelled and queued.cancelled and not after.cancelled


def test_the_results_of_a_deleted_owner_are_dropped(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    """A dialog closed (and deleted) while its job runs hears nothing: no handler runs against
    a widget that has gone; the queue goes on."""
    log: list = []
    heard: list[str] = []
    gate = threading.Event()
    owner, other = QObject(), QObject()
    runner.submit(Step("gone", log, gate=gate), heard.append, heard.append, heard.append, owner)
    runner.submit(Step("broke", log, fail=True), heard.append, heard.append, owner=owner)
    runner.submit(Step("kept", log), heard.append, owner=other)
    qtbot.waitUntil(lambda: bool(log), timeout=5000)
    shiboken6.delete(owner)
    gate.set()
    assert runner.wait(5000)
    assert heard == ["kept"]
    assert [label for kind, label, _ in log if kind == "end"] == ["gone", "broke", "kept"]


def test_errors_and_progress_arrive_on_the_ui_thread(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    ui = QThread.currentThread()
    seen: list[tuple[str, bool]] = []
    runner.submit(
        Step("bad", [], fail=True),
        lambda _value: seen.append(("success", False)),
        lambda err: seen.append((str(err), QThread.currentThread() is ui)),
        lambda note: seen.append((note, QThread.currentThread() is ui)),
    )
    assert runner.wait(5000)
    assert seen == [("bad half way", True), ("bad broke", True)]


def test_busy_follows_the_jobs_the_clerk_waits_for(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    states: list[bool] = []
    runner.busy_changed.connect(states.append)
    gate = threading.Event()

    class Poll(Step):
        quiet = True

    runner.submit(Poll("poll", [], resource="other"))
    assert not runner.busy and states == []  # a quiet poll shows nothing
    runner.submit(Step("one", [], gate=gate))
    runner.submit(Step("two", []))
    assert runner.busy and states == [True]
    gate.set()
    assert runner.wait(5000)
    assert not runner.busy and states == [True, False]  # one busy spell for the queue


def test_cancel_all_spares_quiet_jobs(qtbot, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    done: list[str] = []

    class Poll(Step):
        quiet = True

    runner.submit(Poll("poll", []), done.append)
    runner.submit(Step("work", []), done.append)
    runner.cancel_all()
    assert not runner.busy
    assert runner.wait(5000)
    assert done == ["poll"]
