"""A small job runner on QThreadPool.

A view submits a callable; the runner executes it on a worker thread and emits ``succeeded`` or
``failed`` on the UI thread. ``busy_changed`` drives the busy indicator. Cancelling marks the job
so its result is dropped (HTTP calls cannot be interrupted mid-flight; long jobs poll
``job.cancelled`` between steps).
"""

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    error = Signal(object)


class Job(QRunnable):
    def __init__(self, fn: Callable[["Job"], Any]) -> None:
        super().__init__()
        self.fn = fn
        self.cancelled = False
        self.signals = _Signals()
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except Exception as err:  # reported to the UI thread, never lost in the worker
            self.signals.error.emit(err)
        else:
            self.signals.done.emit(result)


class JobRunner(QObject):
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._active: set[Job] = set()
        self._quiet: set[Job] = set()  # kept referenced until done, like the others

    @property
    def busy(self) -> bool:
        return bool(self._active)

    def submit(
        self,
        fn: Callable[[], Any] | Callable[[Job], Any],
        on_success: Callable[[Any], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        *,
        wants_job: bool = False,
        quiet: bool = False,
    ) -> Job:
        """``quiet`` jobs (background polling) neither show the busy indicator nor get
        cancelled by its button."""
        job = Job(fn if wants_job else (lambda _job: fn()))  # type: ignore[call-arg,misc]
        tracked = self._quiet if quiet else self._active

        def finish(handler: Callable[[Any], None] | None, value: Any) -> None:
            was_busy = bool(self._active)
            tracked.discard(job)
            if was_busy and not self._active:
                self.busy_changed.emit(False)
            if handler is not None and not job.cancelled:
                handler(value)

        job.signals.done.connect(lambda value: finish(on_success, value))
        job.signals.error.connect(lambda err: finish(on_error, err))
        if not quiet and not self._active:
            self.busy_changed.emit(True)
        tracked.add(job)
        self._pool.start(job)
        return job

    def cancel_all(self) -> None:
        for job in self._active:
            job.cancelled = True

    def wait(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)
