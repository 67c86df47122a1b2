"""What a job is, without Qt: a named unit of blocking work bound to one resource.

Jobs for the same resource (the server; one device port) run one at a time in the order they
were asked for; jobs for different resources run side by side. A job is cancelled by setting its
event: a queued job is dropped, a running one has its result dropped (HTTP calls cannot be
interrupted mid-flight; long jobs poll ``cancelled`` between steps). ``report`` sends progress to
the UI thread while the job runs; the runner replaces it with a queued hand-over.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from client.api import ApiClient

SERVER = "server"
LOCAL = "local"  # CPU work on this machine (rendering), queued apart from the server


def device(port: str) -> str:
    """The resource name of a device port: one job at a time talks to it."""
    return f"device:{port}"


class JobCancelled(Exception):  # noqa: N818  (a stop, not an error: the runner drops it)
    """Raised by a job that stops because it was cancelled: whatever it was making (a file, a
    batch) is abandoned, never left half done. The runner delivers no result and no error."""


class Job:
    """A named unit of work. Subclasses implement ``run`` and say their ``resource``."""

    resource: str = SERVER
    quiet: ClassVar[bool] = False  # background polling: no busy indicator, not cancelled by it

    def __init__(self) -> None:
        self.cancel_event = threading.Event()
        self.report: Callable[[Any], None] = lambda _value: None

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        self.cancel_event.set()

    def stop_if_cancelled(self) -> None:
        """Between steps of a long job: raise ``JobCancelled`` if it was cancelled."""
        if self.cancel_event.is_set():
            raise JobCancelled

    def run(self) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{self.name} on {self.resource}>"


class ApiJob(Job):
    """Work against the server. The session hands it the signed-in client when it is queued,
    so views and models name the work and never hold a lambda over the API."""

    api: ApiClient | None = None

    def run(self) -> Any:
        assert self.api is not None, f"{self.name} was queued without an API client"
        return self.call(self.api)

    def call(self, api: ApiClient) -> Any:
        raise NotImplementedError


# how a model asks for a job: (job, on_success, on_error) — the session's ``run``
Runs = Callable[..., Job]
