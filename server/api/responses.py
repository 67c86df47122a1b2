"""Answers serialised where they are made: ``fast_json`` and ``ModelRoute``, the route class of
every router.

FastAPI passes a returned model through ``response_model`` once more before serialising it; for
a sync endpoint that is a second trip to the thread pool (about 0.1 ms a hop here), and the
serialisation then runs on the event loop, where every other request waits for it. An instance
of exactly the response model needs neither: pydantic validated it when it was built and hands
such an instance back unchanged (``revalidate_instances="never"``). So ``ModelRoute`` has the
endpoint's own worker thread turn it into JSON bytes (pydantic's Rust serialiser, the same bytes
FastAPI would send) and returns the ``Response``; anything else such an endpoint returns (a
subclass carrying more fields than the response model shows, a dict) is validated and
serialised there too, through the route's response field as FastAPI does it. A route with
include/exclude options or its own response class takes FastAPI's usual path.
"""

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

from fastapi import Request, Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from server.api.deferred import resolve_arguments, run_pending

JSON = "application/json"
_PLAIN_OPTIONS = {
    "response_model_include": None,
    "response_model_exclude": None,
    "response_model_by_alias": True,
    "response_model_exclude_unset": False,
    "response_model_exclude_defaults": False,
    "response_model_exclude_none": False,
}


def fast_json(model: BaseModel, status_code: int = 200) -> Response:
    return Response(
        content=model.model_dump_json(by_alias=True), status_code=status_code, media_type=JSON
    )


def _takes_response(endpoint: Callable[..., Any]) -> bool:
    """Whether the endpoint sets headers or a status on an injected ``Response`` (FastAPI
    merges those into its own answer only)."""
    hints = get_type_hints(endpoint)
    return any(
        isinstance(hint, type) and issubclass(hint, Response)
        for name, hint in hints.items()
        if name != "return"
    )


def _in_thread(endpoint: Callable[..., Any], route: "ModelRoute", status: int) -> Any:
    """The endpoint as its worker thread runs it: deferred access checks first
    (``server/api/deferred``), then the endpoint, then — on a route answering plain JSON of
    its response model (``route.serialises``) — the ``Response``: exactly the response model
    as it is (``fast_json``), anything else validated and serialised through the route's
    response field as FastAPI does it, so no second trip to the thread pool is needed."""

    @functools.wraps(endpoint)
    def answer(**arguments: Any) -> Any:
        result = endpoint(**resolve_arguments(arguments))
        if not route.serialises or isinstance(result, Response):
            return result
        if type(result) is route.response_model:
            return fast_json(result, status)
        return _as_response_model(route, result, status)

    return answer


def _as_response_model(route: APIRoute, result: Any, status: int) -> Response:
    """What FastAPI's handler makes of a result that is not a ``Response``, on a route whose
    response options are all FastAPI's defaults (``_serialised_here``)."""
    field = route.response_field
    assert field is not None
    value, errors = field.validate(result, {}, loc=("response",))
    if errors:
        raise ResponseValidationError(errors=errors, body=result)
    return Response(content=field.serialize_json(value), status_code=status, media_type=JSON)


def _serialised_here(endpoint: Callable[..., Any], options: dict[str, Any]) -> bool:
    model = options.get("response_model")
    return (
        isinstance(model, type)
        and issubclass(model, BaseModel)
        and isinstance(options.get("response_class", DefaultPlaceholder(None)), DefaultPlaceholder)
        and all(options.get(name, default) == default for name, default in _PLAIN_OPTIONS.items())
        and not _takes_response(endpoint)
    )


def _runs_in_thread(endpoint: Callable[..., Any]) -> bool:
    return (
        inspect.isfunction(endpoint)
        and not inspect.iscoroutinefunction(endpoint)
        and not inspect.isgeneratorfunction(endpoint)
    )


class ModelRoute(APIRoute):
    """The route class of every router (a test checks). A sync endpoint runs its deferred
    access checks in its own worker thread (``server/api/deferred``), and one returning exactly
    its response model is answered from there (see the module docstring)."""

    resolves_deferred: bool
    serialises: bool

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        self.resolves_deferred = _runs_in_thread(endpoint)
        self.serialises = self.resolves_deferred and _serialised_here(endpoint, options)
        if self.resolves_deferred:
            endpoint = _in_thread(endpoint, self, options.get("status_code") or 200)
        super().__init__(path, endpoint, **options)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked_first(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError:
                await run_pending(request)  # a refused token answers before bad parameters
                raise

        # imported here: server.api.direct builds on server.api.deps, which builds on this module
        from server.api import direct

        plan = direct.plan(self)
        return checked_first if plan is None else direct.Direct(plan, checked_first)
