"""Every failure leaves the API as ``{"code", "message" (Chinese), "details"}``."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException

from server.api.admission import RETRY_AFTER_SECONDS
from server.services.errors import AppError
from shared.errors import ErrorCode

log = logging.getLogger("sgss.api")

_PYDANTIC_MESSAGES = {
    "missing": "为必填项",
    "string_too_short": "长度不足",
    "string_too_long": "长度超出限制",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "须为整数",
    "int_type": "须为整数",
    "bool_parsing": "须为是或否",
    "bool_type": "须为是或否",
    "string_type": "须为文本",
    "list_type": "须为列表",
    "enum": "取值无效",
    "literal_error": "取值无效",
    "json_invalid": "不是有效的JSON",
    "model_attributes_type": "格式不正确",
    "dict_type": "格式不正确",
    "greater_than_equal": "数值过小",
    "less_than_equal": "数值过大",
    "greater_than": "数值过小",
    "less_than": "数值过大",
    "too_long": "项目过多",
    "too_short": "项目过少",
    "finite_number": "须为有限的数值",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "int_from_float": "须为整数",
    "date_parsing": "日期格式应为 yyyy-mm-dd",
    "date_from_datetime_parsing": "日期格式应为 yyyy-mm-dd",
    "datetime_parsing": "时间格式不正确",
    "datetime_from_date_parsing": "时间格式不正确",
    "extra_forbidden": "不是可提交的字段",
}

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_TOO_LARGE,
    422: ErrorCode.VALIDATION_ERROR,
}


_FIELD_LABELS = {
    "username": "用户名",
    "password": "密码",
    "old_password": "原密码",
    "new_password": "新密码",
    "verification_code": "验证码",
    "name": "名称",
    "parent_id": "上级机构",
    "type": "机构类型",
    "region_code": "所属区域",
    "phone": "联系电话",
    "address": "地址",
    "org_id": "所属机构",
    "mobile": "联系手机",
    "id_number": "证件号",
    "police_number": "警号",
    "role_ids": "自定义角色",
    "approval_roles": "业务审批角色",
    "permissions": "操作权限",
    "data_scope": "数据范围",
    "version": "版本",
    "title": "材料名称",
    "file": "材料文件",
}


def body(code: ErrorCode, message: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"code": code.value, "message": message or code.message, "details": details}


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        if error["type"] == "value_error":
            text = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            text = _PYDANTIC_MESSAGES.get(error["type"], "取值无效")
        errors.append({"field": ".".join(loc), "message": text, "type": error["type"]})
    return errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, exc: AppError) -> JSONResponse:
        headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
        return JSONResponse(
            body(exc.code, exc.message, exc.details), status_code=exc.code.status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        first = errors[0] if errors else None
        message = ErrorCode.VALIDATION_ERROR.message
        if first:
            field = first["field"].split(".")[0]
            message = f"{_FIELD_LABELS.get(field, first['field'] or '请求')}：{first['message']}"
        return JSONResponse(body(ErrorCode.VALIDATION_ERROR, message, errors), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own refusals (no route, wrong method, a body it cannot parse, one too
        large) keep their status and headers (``Allow`` on 405) and get a client-error code."""
        code = _HTTP_CODES.get(exc.status_code)
        if code is None:
            code = ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
        details = getattr(exc, "details", None)
        return JSONResponse(body(code, details=details), exc.status_code, headers=exc.headers)

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
