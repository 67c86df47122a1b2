"""Guards in front of every endpoint, as one pure ASGI middleware (no per-route code).

* **Body size.** Bytes are counted as they arrive; past the limit the request answers 413
  ``REQUEST_TOO_LARGE`` — at once when ``Content-Length`` already says so, before a byte is read.
  The limit is ``request_max_bytes`` unless the matched route declares a larger one with
  ``upload_limit("<setting>")`` (materials, watch-list files): the route is known by the time the
  endpoint reads its body, so the middleware looks it up lazily, at the first ``receive``.
* **NUL in the URL.** A query string or path with ``%00`` answers 422: PostgreSQL refuses NUL in
  text, and no parameter of this API means it. Bodies are guarded by ``shared.schemas.Input``.
"""

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.errors import body
from server.config import Settings
from shared.errors import ErrorCode

UPLOAD_SETTING = "x-upload-limit-setting"
MAX_BODY_KEY = "x-max-body-bytes"
MULTIPART_OVERHEAD = 64 * 1024
"""Room for the multipart boundaries, headers and small fields beside an uploaded file."""


def upload_limit(setting: str) -> dict[str, Any]:
    """``openapi_extra`` of a route taking a file: its body may be ``Settings.<setting>`` bytes
    (plus multipart overhead). ``apply_upload_limits`` turns it into the number."""
    return {UPLOAD_SETTING: setting}


def apply_upload_limits(routes: list[Any], settings: Settings) -> None:
    """Give every route its body limit in bytes (``x-max-body-bytes``, documented in OpenAPI)."""
    for route in routes:
        extra = dict(getattr(route, "openapi_extra", None) or {})
        setting = extra.pop(UPLOAD_SETTING, None)
        if setting is None and getattr(route, "body_field", None) is None:
            continue
        limit = settings.request_max_bytes
        if setting is not None:
            limit = int(getattr(settings, setting)) + MULTIPART_OVERHEAD
        route.openapi_extra = {**extra, MAX_BODY_KEY: limit}


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTP exceptions met while reading a body, so
    the app's own handler answers it like any other refusal."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.details = {"limit_bytes": limit}


def _limit_of(scope: Scope, default: int) -> int:
    extra = getattr(scope.get("route"), "openapi_extra", None) or {}
    return int(extra.get(MAX_BODY_KEY, default))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", ""):
            message = "请求地址或查询条件不能包含空字符（\\0）"
            answer = JSONResponse(body(ErrorCode.VALIDATION_ERROR, message), status_code=422)
            await answer(scope, receive, send)
            return
        received = 0
        limit: int | None = None

        async def counted() -> Message:
            nonlocal received, limit
            if limit is None:
                limit = _limit_of(scope, self.max_body_bytes)
                declared = _content_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)
