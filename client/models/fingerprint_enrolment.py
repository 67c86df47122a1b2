"""The state of one fingerprint enrolment for the dialog: which step, what to tell the
applicant, and how it ended. The device work is the ``EnrolFingerprint`` job on the module's
port; its prompts arrive on the UI thread through the runner's progress channel."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from psygnal import Signal

from client.api import ApiError
from client.jobs.fingerprint_jobs import EnrolFingerprint
from client.jobs.job import Runs
from drivers.errors import CancelledByUserError, DeviceError

if TYPE_CHECKING:
    from client.devices.enrolment import Module, Outcome, Prompt, Step


class EnrolmentModel:
    prompted = Signal(object)  # Prompt
    enrolled = Signal(object)  # ApplicationDetail
    refused = Signal(object)  # FingerprintMatch
    failed = Signal(str, str)  # message for the clerk, stable code
    running_changed = Signal(bool)

    def __init__(
        self,
        run: Runs,
        open_module: Callable[[], Module],
        application_id: int,
        *,
        port: str = "fingerprint",
    ) -> None:
        self.run = run
        self.open_module = open_module
        self.application_id = application_id
        self.port = port
        self.step: Step | None = None
        self.last_prompt: Prompt | None = None
        self._job: EnrolFingerprint | None = None

    def _track(self, prompt: Prompt) -> None:
        self.step = prompt.step
        self.last_prompt = prompt
        self.prompted.emit(prompt)

    @property
    def running(self) -> bool:
        return self._job is not None

    def start(self, version: int) -> None:
        if self.running:
            return
        job = EnrolFingerprint(self.open_module, self.port, self.application_id, version)
        self._job = job
        self.run(job, self._done, self._error, on_progress=self._track)
        self.running_changed.emit(True)

    def cancel(self) -> None:
        """Stop at the module's next safe point; the job ends with 已取消."""
        if self._job is not None:
            self._job.stop.set()

    def _end(self) -> None:
        self._job = None
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
