"""What an inbound record's handler is given, and how it refuses a record.

The applier (``inbound``) calls ``records_in.HANDLERS[record.type](incoming)`` inside a
savepoint of the transaction that also moves ``applied_upto``. A handler that raises
``RecordRejectedError`` has its changes rolled back to the savepoint, and the applier answers the
record with an outbound ``record.rejected`` carrying the code and message; the stream goes on.
Any other exception ends the cycle without applying the record (it is tried again next cycle).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from shared.sync.bundle import Record


class RecordRejectedError(Exception):
    """A record valid on the wire that breaks a business rule: ``code`` is stable (an
    ``ErrorCode`` value where one fits), ``message`` Chinese, both sent back to the portal."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Incoming:
    session: Session
    record: Record
    files: Mapping[str, bytes]
    """The bundle's files by SHA-256 (only those the record names are meant for it)."""
    now: datetime
    data_dir: Path
    """For the materials store (``data_dir/materials``) and the document keys."""


Handler = Callable[[Incoming], None]
