"""One sync cycle at a time, across processes and hosts.

Applying is exactly-once without this lock (each record's transaction locks the state row and
re-checks its seq), but two cycles at once would still read the same arrivals, quarantine a
file twice, and send the same records in two bundles. So a cycle runs only while it holds:

- on PostgreSQL, the session-level advisory lock ``CYCLE_LOCK_KEY``, taken with
  ``pg_try_advisory_lock`` on a connection of its own kept for the whole cycle. Any host that
  shares the database sees it; the database drops it when the process or its connection dies,
  so a killed cycle never blocks the next one.
- on SQLite, an exclusive OS lock (``flock``; ``msvcrt.locking`` on Windows) on
  ``<data_dir>/sync-cycle.lock``. SQLite is one machine's file, so every process that can
  write it can see that lock; the OS drops it with the process, as PostgreSQL does.

Neither waits: a cycle that finds the lock taken does nothing and says so.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, text

CYCLE_LOCK_KEY = 0x5347_5353_5359_4E43  # "SGSSSYNC"
"""The advisory lock's key: arbitrary, but the same on every host."""
LOCK_FILE = "sync-cycle.lock"


@contextmanager
def cycle_lock(engine: Engine, data_dir: Path) -> Iterator[bool]:
    """Yield whether this cycle may run (the lock is held until the ``with`` ends)."""
    if engine.dialect.name == "postgresql":
        with _advisory(engine) as held:
            yield held
    else:
        with _file_lock(data_dir / LOCK_FILE) as held:
            yield held


@contextmanager
def _advisory(engine: Engine) -> Iterator[bool]:
    conn = engine.connect()
    try:
        held = bool(conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": CYCLE_LOCK_KEY}))
        conn.commit()  # the lock belongs to the session, not the transaction: no idle transaction
        try:
            yield held
        finally:
            if held:
                try:
                    conn.scalar(text("SELECT pg_advisory_unlock(:key)"), {"key": CYCLE_LOCK_KEY})
                    conn.commit()
                except Exception:
                    # never hand a connection that may still hold the lock back to the pool
                    conn.invalidate()
                    raise
    finally:
        conn.close()


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+b")
    try:
        held = _try_lock(handle)
        yield held
    finally:
        handle.close()  # closing the file releases the lock


def _try_lock(handle: IO[bytes]) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True
