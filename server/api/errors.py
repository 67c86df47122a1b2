"""Every failure leaves the API as ``{"code", "message" (Chinese), "details"}``."""

import logging
import re
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from server.api.admission import RETRY_AFTER_SECONDS
from server.services.errors import AppError
from shared.errors import ErrorCode
from shared.validation import field_errors, said

log = logging.getLogger("sgss.api")


class AllowedMethods:
    """Which methods each path of the API takes, for ``Allow`` on a 405. Each method of a path
    is a route of its own (``GET /orgs``, ``POST /orgs``) and Starlette's 405 names only the
    first one it tried, so a wrong method would hear of one of them; built once, from the
    routers the app includes."""

    def __init__(self, routers: Iterable[APIRouter], prefix: str) -> None:
        self._paths: list[tuple[re.Pattern[str], frozenset[str]]] = []
        for router in routers:
            for route in router.routes:
                methods, path = getattr(route, "methods", None), getattr(route, "path", None)
                if methods and path:
                    self._paths.append((compile_path(prefix + path)[0], frozenset(methods)))

    def at(self, path: str) -> str:
        """The ``Allow`` value for ``path`` (empty: no route has it)."""
        found = {m for pattern, methods in self._paths if pattern.match(path) for m in methods}
        return ", ".join(sorted(found))


_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_TOO_LARGE,
    422: ErrorCode.VALIDATION_ERROR,
}


def body(code: ErrorCode, message: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"code": code.value, "message": message or code.message, "details": details}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            body(exc.code, exc.message, exc.details), status_code=exc.code.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(exc.errors())
        return JSONResponse(body(ErrorCode.VALIDATION_ERROR, said(errors), errors), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own refusals (no route, wrong method, a body it cannot parse, one too
        large) keep their status and headers (``Allow`` on 405) and get a client-error code."""
        code = _HTTP_CODES.get(exc.status_code)
        if code is None:
            code = ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
        details = getattr(exc, "details", None)
        headers = exc.headers
        routes = getattr(request.app.state, "allowed_methods", None)
        allowed = routes.at(request.url.path) if exc.status_code == 405 and routes else ""
        if allowed:
            headers = {**(headers or {}), "Allow": allowed}
        return JSONResponse(body(code, details=details), exc.status_code, headers=headers)

    @app.exception_handler(StaleDataError)
    async def _stale(_: Request, exc: StaleDataError) -> JSONResponse:
        return JSONResponse(body(ErrorCode.STALE_VERSION), status_code=409)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(body(ErrorCode.CONFLICT), status_code=409)

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_: Request, exc: PoolTimeout) -> JSONResponse:
        # admission (server/api/admission.py) keeps requests from waiting for a connection;
        # if one waits anyway and gives up, the server is overloaded, not broken
        log.warning("no database connection free: %s", exc)
        return JSONResponse(
            body(ErrorCode.SERVER_BUSY),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            # the database dropped this connection (a restart) and SQLAlchemy has renewed the
            # pool: the same request will work again (the desk repeats reads, never writes)
            log.warning("database connection lost: %s", exc.orig)
            return JSONResponse(body(ErrorCode.DATABASE_RECONNECTED), status_code=503)
        log.exception("database error", exc_info=exc)
        return JSONResponse(body(ErrorCode.INTERNAL_ERROR), status_code=500)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(body(ErrorCode.INTERNAL_ERROR), status_code=500)
