"""Guards in front of every endpoint, as one pure ASGI middleware (no per-route code).

* **Body size.** Bytes are counted as they arrive; past the limit the request answers 413
  ``REQUEST_TOO_LARGE`` — at once when ``Content-Length`` already says so, before a byte is read.
  The limit is ``request_max_bytes`` unless the matched route declares a larger one with
  ``upload_limit("<setting>")`` (materials, watch-list files): the route is matched by the time
  the endpoint reads its body, so the middleware looks at it lazily, at the first ``receive``.
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
    plus multipart overhead. The OpenAPI description shows the number (``server.api.openapi``)."""
    return {UPLOAD_SETTING: setting}


def body_limit(openapi_extra: dict[str, Any] | None, settings: Settings) -> int:
    """The most bytes a request body may have on a route with this ``openapi_extra``."""
    setting = (openapi_extra or {}).get(UPLOAD_SETTING)
    if setting is None:
        return settings.request_max_bytes
    return int(getattr(settings, setting)) + MULTIPART_OVERHEAD


class BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTP exceptions met while reading a body, so
    the app's own handler answers it like any other refusal."""

    def __init__(self, limit: int) -> None:
        super().__init__(413)
        self.details = {"limit_bytes": limit}


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings

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
                extra = getattr(scope.get("route"), "openapi_extra", None)
                limit = body_limit(extra, self.settings)
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
