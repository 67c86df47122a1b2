"""The desk's device work, one named job per thing a clerk asks of a device, each queued on its
port so two jobs never talk to one device at once.

``stop`` is the clerk's 取消 as the device sees it: the conversation is ended at the next safe
point and the job fails with ``CancelledByUserError``, which the dialog reports (unlike
``cancel``, which silently drops a job's result). The drivers are imported when a job runs, not
when the desk starts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from client.jobs.job import Job, device

if TYPE_CHECKING:
    from client.devices.settings import DeviceSettings


def _printer_resource(settings: DeviceSettings) -> str:
    if settings.printer_path.value == "system":
        return device(f"printer:{settings.system_printer}")
    return device(settings.printer_port)


class _DeviceJob(Job):
    def __init__(self, resource: str) -> None:
        super().__init__()
        self.resource = resource
        self.stop = threading.Event()


class TestFingerprintModule(_DeviceJob):
    """Talk to the module on ``port``: identity, library size, a report for the dialog."""

    __test__ = False  # not a pytest class

    def __init__(self, port: str, baud: int) -> None:
        super().__init__(device(port))
        self.port, self.baud = port, baud

    def run(self) -> list[tuple[str, str]]:
        from client.devices import diagnostics

        return diagnostics.fingerprint_report(self.port, self.baud)


class ReadPrinterStatus(_DeviceJob):
    def __init__(self, settings: DeviceSettings) -> None:
        super().__init__(_printer_resource(settings))
        self.settings = settings

    def run(self) -> list[tuple[str, str]]:
        from client.devices import diagnostics

        return diagnostics.printer_report(self.settings)


class PrintTestCard(_DeviceJob):
    """A test card with this workstation's name; ``on_progress(label, fraction)`` is called on
    the worker thread as the printer reports."""

    def __init__(
        self,
        settings: DeviceSettings,
        workstation: str,
        on_progress: Callable[[str, float], None] | None = None,
    ) -> None:
        super().__init__(_printer_resource(settings))
        self.settings, self.workstation, self.on_progress = settings, workstation, on_progress

    def run(self) -> list[tuple[str, str]]:
        from client.devices import diagnostics

        return diagnostics.print_test_card(
            self.settings, self.workstation, cancel=self.stop, on_progress=self.on_progress
        )
