"""Access checks run in the endpoint's own worker thread: one trip to the thread pool per request.

FastAPI runs every sync dependency in the thread pool, then the sync endpoint in it again: two
trips (~0.15 ms of CPU each here, a fair share of a cached request) for the token check and the
endpoint. So the access dependencies (``server/api/deps``) are async and return a ``Deferred``:
the check itself, not yet run. ``ModelRoute`` wraps every sync endpoint so that, in its worker
thread and before the endpoint's first line, every ``Deferred`` argument is resolved — the
token checked, the principal found, the permission required — exactly as the dependency would
have done, raising the same errors.

It fails closed: a dependency defers only when the matched route says it resolves deferred
checks (``route.resolves_deferred``); on any other route it runs the check at once, in the
thread pool, as before. The order of refusals is kept too: FastAPI validates the endpoint's
query and path parameters after its dependencies, so a request refused for its token answers
401 even when its parameters are also wrong. ``ModelRoute`` runs a pending check before letting
a validation error (422) out.
"""

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

PENDING = "sgss_deferred_checks"


class Deferred:
    """A check to run once, in the endpoint's thread; its value (or its error) is the
    dependency's."""

    __slots__ = ("_done", "_value", "_work")

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work
        self._done = False
        self._value: Any = None

    def resolve(self) -> Any:
        if not self._done:
            self._value = self._work()
            self._done = True
        return self._value


async def settle(request: Request, work: Callable[[], Any]) -> Any:
    """The dependency's answer: a ``Deferred`` if the matched route resolves them, else the
    value itself, worked out in the thread pool now."""
    deferred = Deferred(work)
    if not getattr(request.scope.get("route"), "resolves_deferred", False):
        return await run_in_threadpool(deferred.resolve)
    request.scope.setdefault(PENDING, []).append(deferred)
    return deferred


def resolve_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's arguments with every deferred check run (in declaration order)."""
    if not any(isinstance(value, Deferred) for value in arguments.values()):
        return arguments
    return {
        name: value.resolve() if isinstance(value, Deferred) else value
        for name, value in arguments.items()
    }


async def run_pending(request: Request) -> None:
    """Run the checks deferred by this request's dependencies that have not run yet (before a
    validation error is answered)."""
    for deferred in request.scope.get(PENDING, ()):
        await run_in_threadpool(deferred.resolve)
