"""What the sync cycle needs of a transport, whichever carries the bundles.

The cycle asks for arrivals, reads each, verifies and applies it, then settles it: ``done``
(applied, a duplicate, or held for a gap and now kept in the database), ``quarantine`` (refused,
with the sentence a person reads) or ``leave`` (a file that may still be arriving: look again
next cycle). Then it sends at most one outbound bundle. A transport raises ``TransportError``
with a Chinese sentence when it cannot do its part at all (folder missing, gateway down after
its retries); the cycle records the sentence and ends, and nothing is lost: unsent records stay
unacked and are sent again, an unread file stays in the folder.
"""

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Protocol


class TransportError(Exception):
    """The transport could not do its part; ``message`` is for the desk and the CLI."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Arrival(Protocol):
    """One bundle that arrived (a file in ``in/``, or one answer of the gateway)."""

    @property
    def name(self) -> str:
        """The file name, or the name the gateway gave; for the record only (docs/sync.md
        resolution 12: the manifest is the authority)."""
        ...

    def read(self) -> bytes:
        """The bundle's bytes (at most ``shared.sync.bundle.MAX_BUNDLE_BYTES`` + 1 read)."""
        ...

    def unchanged_for(self) -> timedelta:
        """How long the bytes have been as they are: a file younger than ten minutes that
        does not open as a ZIP may still be copying. The gateway's answers are whole
        (``timedelta.max``)."""
        ...

    def done(self) -> None: ...

    def quarantine(self, reason: str) -> None: ...

    def leave(self) -> None: ...


class Transport(Protocol):
    def describe(self) -> str:
        """For status and the desk, e.g. ``files: D:\\sync`` or ``http: https://gw/``."""
        ...

    def arrivals(self, applied_upto: Callable[[], int]) -> Iterator[Arrival]:
        """The bundles to look at now. The folder lists ``in/*.sgssb`` (oldest first); the
        gateway fetches ``after=applied_upto()`` again after each one the cycle settled, and
        stops when that did not advance (nothing new, a duplicate, a gap or a refusal)."""
        ...

    def send(self, name: str, data: bytes) -> None:
        """Deliver one bundle: atomically into ``out/``, or POSTed until the gateway took it."""
        ...
