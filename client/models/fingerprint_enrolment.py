"""The state of one fingerprint enrolment for the dialog: which step, what to tell the
applicant, and how it ended. The device work runs on the runner's worker thread; prompts cross
to the UI thread as queued signals."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from client.api import ApiClient, ApiError
from client.devices.enrolment import Enrolment, Module, Outcome, Prompt, Step
from client.jobs import Job, JobRunner
from drivers.errors import CancelledByUserError, DeviceError


class EnrolmentModel(QObject):
    prompted = Signal(object)  # Prompt
    enrolled = Signal(object)  # ApplicationDetail
    refused = Signal(object)  # FingerprintMatch
    failed = Signal(str, str)  # message for the clerk, stable code
    running_changed = Signal(bool)

    def __init__(
        self,
        api: ApiClient,
        runner: JobRunner,
        open_module: Callable[[], Module],
        application_id: int,
    ) -> None:
        super().__init__()
        self.api = api
        self.runner = runner
        self.open_module = open_module
        self.application_id = application_id
        self.step: Step | None = None
        self.last_prompt: Prompt | None = None
        self._cancel: threading.Event | None = None
        self._job: Job | None = None
        self.prompted.connect(self._track)

    def _track(self, prompt: Prompt) -> None:
        self.step = prompt.step
        self.last_prompt = prompt

    @property
    def running(self) -> bool:
        return self._job is not None

    def start(self, version: int) -> None:
        if self.running:
            return
        cancel = threading.Event()
        self._cancel = cancel
        enrolment = Enrolment(
            self.open_module, self.api, self.application_id, version, self.prompted.emit, cancel
        )
        self._job = self.runner.submit(enrolment.run, self._done, self._error)
        self.running_changed.emit(True)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _end(self) -> None:
        self._job = None
        self._cancel = None
        self.running_changed.emit(False)

    def _done(self, outcome: Outcome) -> None:
        self._end()
        if outcome.refused is not None:
            self.refused.emit(outcome.refused)
        elif outcome.detail is not None:
            self.enrolled.emit(outcome.detail)

    def _error(self, err: Exception) -> None:
        self._end()
        if isinstance(err, CancelledByUserError):
            self.failed.emit("已取消指纹录入，报名信息未作任何更改", err.code)
        elif isinstance(err, (DeviceError, ApiError)):
            self.failed.emit(err.message, err.code)
        else:
            self.failed.emit(f"指纹录入失败：{err}", "CLIENT_ERROR")
