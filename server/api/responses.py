"""Answers serialised where they are made: ``fast_json`` and ``ModelRoute``, the route class of
every router.

FastAPI passes a returned model through ``response_model`` once more before serialising it; for
a sync endpoint that is a second trip to the thread pool (about 0.1 ms a hop here), and the
serialisation then runs on the event loop, where every other request waits for it. An instance
of exactly the response model needs neither: pydantic validated it when it was built and hands
such an instance back unchanged (``revalidate_instances="never"``). So ``ModelRoute`` has the
endpoint's own worker thread turn it into JSON bytes (pydantic's Rust serialiser, the same bytes
FastAPI would send) and returns the ``Response``. Anything else — a subclass carrying more
fields than the response model shows, a dict, a route with include/exclude options or its own
response class — takes FastAPI's usual path.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any, get_type_hints

from fastapi import Response
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute
from pydantic import BaseModel

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


def _direct(endpoint: Callable[..., Any], model: type[BaseModel], status: int) -> Any:
    @functools.wraps(endpoint)
    def answer(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        if type(result) is model:
            return fast_json(result, status)
        return result

    return answer


def _serialised_here(endpoint: Callable[..., Any], options: dict[str, Any]) -> bool:
    model = options.get("response_model")
    return (
        isinstance(model, type)
        and issubclass(model, BaseModel)
        and inspect.isfunction(endpoint)
        and not inspect.iscoroutinefunction(endpoint)
        and not inspect.isgeneratorfunction(endpoint)
        and isinstance(options.get("response_class", DefaultPlaceholder(None)), DefaultPlaceholder)
        and all(options.get(name, default) == default for name, default in _PLAIN_OPTIONS.items())
        and not _takes_response(endpoint)
    )


class ModelRoute(APIRoute):
    """The route class of every router (a test checks): sync endpoints returning exactly their
    response model are answered from their worker thread (see the module docstring)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        if _serialised_here(endpoint, options):
            status = options.get("status_code") or 200
            endpoint = _direct(endpoint, options["response_model"], status)
        super().__init__(path, endpoint, **options)
