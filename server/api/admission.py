"""How many requests use the database at once, and why the pool and the threads are sized together.

A request's session holds one pooled connection from its first statement until it is closed,
after the response; in between the request hops to a worker thread several times (a sync
dependency, the endpoint, the close). If requests could take threads while waiting for a
connection, a burst would fill every thread with waiters while the requests holding the
connections wait for a thread to finish on: each waits for what only the other can free, until
the pool's timeout fails them all (50 requests in flight did that with 40 threads and 10
connections). So:

- **Admission.** A request takes a turn here, on the event loop and holding no thread, before its
  session exists; the turn ends when the session is closed. There are exactly as many turns as
  the pool has connections (``SGSS_DB_CONNECTIONS``), so an admitted request never waits for a
  connection, and the pool never overflows or times out.
- **Threads ≥ connections** (``SGSS_WORKER_THREADS``, anyio's thread limit, checked by the
  settings). Admitted requests use at most one thread each and wait on nothing that a queued
  request holds (a row lock or SQLite's write lock is held by an admitted request, which
  always gets a thread), so each finishes and hands its turn on.
- **Queueing.** Requests beyond the turns queue in arrival order and are served as turns free
  up. One that has waited ``SGSS_DB_QUEUE_SECONDS`` is answered 503 SERVER_BUSY with
  ``Retry-After``: an overloaded server says so instead of failing with 500.

SQLite writers serialise on the database's write lock: WAL lets readers run beside the writer,
and a writer waits for the lock (``busy_timeout``, server/db/session.py) instead of failing.
"""

import asyncio
from weakref import WeakKeyDictionary

import anyio.to_thread

from server.config import Settings
from server.services.errors import AppError
from shared.errors import ErrorCode

RETRY_AFTER_SECONDS = 2


class Admission:
    """Turns to use the database: one per pooled connection, queued on the event loop.

    Asyncio primitives belong to one event loop; uvicorn runs one, while ``TestClient`` may
    start one per request, so each loop gets its own semaphore (and its own thread limit,
    which anyio also keeps per loop), set up by the first request on it."""

    def __init__(self, settings: Settings) -> None:
        self.turns = settings.db_connections
        self.threads = settings.worker_threads
        self.wait_seconds = settings.db_queue_seconds
        self._per_loop: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            WeakKeyDictionary()
        )

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._per_loop.get(loop)
        if semaphore is None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
            semaphore = self._per_loop[loop] = asyncio.Semaphore(self.turns)
        return semaphore

    async def enter(self) -> asyncio.Semaphore:
        """Wait for a turn (SERVER_BUSY after ``wait_seconds``); the caller releases the
        returned semaphore when its session is closed."""
        semaphore = self._semaphore()
        if not semaphore.locked():
            await semaphore.acquire()  # a turn is free: no wait, and no timer to set up
            return semaphore
        try:
            async with asyncio.timeout(self.wait_seconds):
                await semaphore.acquire()
        except TimeoutError:
            raise AppError(ErrorCode.SERVER_BUSY, retry_after=RETRY_AFTER_SECONDS) from None
        return semaphore
