"""Enrolment as a named job, apart from the diagnostics jobs so that the enrolment model (plain
Python) can name it without pulling in the card printer's Qt rendering."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from client.jobs.job import ApiJob, device

if TYPE_CHECKING:
    from client.api import ApiClient
    from client.devices.enrolment import Module


class EnrolFingerprint(ApiJob):
    """Enrol the applicant's finger on the station module and get the card number from the
    server (``client.devices.enrolment``). Each step's ``Prompt`` goes to ``report``, which the
    runner hands to the UI thread."""

    def __init__(
        self, open_module: Callable[[], Module], port: str, application_id: int, version: int
    ) -> None:
        super().__init__()
        self.resource = device(port)
        self.open_module = open_module
        self.application_id, self.version = application_id, version
        self.stop = threading.Event()

    def call(self, api: ApiClient) -> Any:
        from client.devices.enrolment import Enrolment

        enrolment = Enrolment(
            self.open_module, api, self.application_id, self.version, self.report, self.stop
        )
        return enrolment.run()
