"""The Qt runner of named jobs: one queue per resource on a QThreadPool.

Jobs for the same resource (the server, one device port) run one at a time in the order they
were submitted, so a device never sees two conversations at once and the server sees the clerk's
requests in the clerk's order; different resources run side by side. Results, errors and
progress cross back to the UI thread as queued signals of one bridge object living there, so
every handler runs on the UI thread. ``busy_changed`` drives the busy indicator (quiet jobs, the
bell's poll, neither show it nor are cancelled by its button). A job submitted for an ``owner``
(the widget whose handlers it calls) reports nothing once that widget has been deleted: a dialog
closed while its requests were under way is deleted, and its handlers must not run on it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

from client.jobs.job import Job

Handler = Callable[[Any], None]


class _Bridge(QObject):
    done = Signal(object, object)  # job, result
    error = Signal(object, object)  # job, exception
    progress = Signal(object, object)  # job, value


class _Task(QRunnable):
    def __init__(self, job: Job, bridge: _Bridge) -> None:
        super().__init__()
        self.job, self.bridge = job, bridge

    def run(self) -> None:
        try:
            result = self.job.run()
        except Exception as err:  # reported to the UI thread, never lost in the worker
            self.bridge.error.emit(self.job, err)
        else:
            self.bridge.done.emit(self.job, result)


@dataclass
class _Entry:
    job: Job
    on_success: Handler | None
    on_error: Handler | None
    on_progress: Handler | None
    owner: QObject | None = None

    def heard(self) -> bool:
        """Whether the handlers may run: not cancelled, and the owner (if any) not deleted."""
        job, owner = self.job, self.owner
        return not job.cancelled and (owner is None or shiboken6.isValid(owner))


class JobRunner(QObject):
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        # the server and each device port at once, whatever the core count
        self._pool.setMaxThreadCount(max(4, QThreadPool.globalInstance().maxThreadCount()))
        self._bridge = _Bridge(self)
        self._bridge.done.connect(lambda job, value: self._finish(job, "on_success", value))
        self._bridge.error.connect(lambda job, err: self._finish(job, "on_error", err))
        self._bridge.progress.connect(self._progress)
        self._queues: dict[str, deque[_Entry]] = {}
        self._running: dict[str, _Entry] = {}
        self._busy = False

    # -- what views and sessions use -----------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._busy

    def submit(
        self,
        job: Job,
        on_success: Handler | None = None,
        on_error: Handler | None = None,
        on_progress: Handler | None = None,
        owner: object = None,
    ) -> Job:
        """Queue ``job`` behind the others of its resource; handlers run on the UI thread, and
        not at all once ``owner`` (a QObject; anything else is ignored) has been deleted."""
        job.report = lambda value: self._bridge.progress.emit(job, value)
        kept = owner if isinstance(owner, QObject) else None
        self._queues.setdefault(job.resource, deque()).append(
            _Entry(job, on_success, on_error, on_progress, kept)
        )
        self._pump(job.resource)
        self._update_busy()
        return job

    def cancel(self, job: Job) -> None:
        """Drop ``job``: unstarted, it never runs; running, its result is never delivered."""
        job.cancel()
        queue = self._queues.get(job.resource)
        if queue is not None:
            for entry in list(queue):
                if entry.job is job:
                    queue.remove(entry)
        self._update_busy()

    def cancel_all(self) -> None:
        """The busy indicator's 取消: every job the clerk is waiting for."""
        for entry in self._entries():
            if not entry.job.quiet:
                self.cancel(entry.job)

    def pending(self, resource: str) -> list[str]:
        """Names of the jobs waiting for ``resource`` (running first), for tests and logs."""
        running = self._running.get(resource)
        queued = list(self._queues.get(resource, ()))
        return [e.job.name for e in ([running] if running else []) + queued]

    def wait(self, msecs: int = 30000) -> bool:
        """Run until every queue is empty (handlers included), processing events so queued
        jobs start. For tests, tools and shutdown; a view never waits."""
        deadline = time.monotonic() + msecs / 1000
        while self._running or any(self._queues.values()):
            if time.monotonic() > deadline:
                return False
            self._pool.waitForDone(20)
            QCoreApplication.processEvents()
        return True

    # -- the queues ------------------------------------------------------------------------------
    def _entries(self) -> list[_Entry]:
        return [*self._running.values(), *(e for q in self._queues.values() for e in q)]

    def _pump(self, resource: str) -> None:
        queue = self._queues.get(resource)
        while resource not in self._running and queue:
            entry = queue.popleft()
            if entry.job.cancelled:
                continue
            self._running[resource] = entry
            self._pool.start(_Task(entry.job, self._bridge))

    def _finish(self, job: Job, handler: str, value: Any) -> None:
        entry = self._running.get(job.resource)
        if entry is None or entry.job is not job:
            return
        del self._running[job.resource]
        self._pump(job.resource)
        self._update_busy()
        callback = getattr(entry, handler)
        if callback is not None and entry.heard():
            callback(value)

    def _progress(self, job: Job, value: Any) -> None:
        entry = self._running.get(job.resource)
        if entry is not None and entry.job is job and entry.on_progress and entry.heard():
            entry.on_progress(value)

    def _update_busy(self) -> None:
        busy = any(not e.job.quiet and not e.job.cancelled for e in self._entries())
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
