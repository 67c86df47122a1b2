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


_TEXT_LENGTH = {"too_long": "string_too_long", "too_short": "string_too_short"}

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
    # every other field a request may carry (a test walks the API description for them), so a
    # message never names a field in English: the desk shows it to the clerk as it is
    "absent": "缺考",
    "action": "操作类型",
    "actor_id": "操作人",
    "applicant": "申请人",
    "applicant_code": "申请人证件号码",
    "applicant_kind": "申请人类型",
    "applicant_name": "申请人名称",
    "application_id": "申请",
    "application_ids": "所选申请",
    "assignee_id": "承办人",
    "basis": "法律依据",
    "birth_date": "出生日期",
    "box": "事项类别",
    "bundle_id": "数据包",
    "business_type": "业务类型",
    "candidate_id": "考生",
    "card_number": "卡号",
    "certificate_id": "证书",
    "channel": "渠道",
    "code": "核验码",
    "corrections": "需补正的内容",
    "date_from": "开始日期",
    "date_to": "结束日期",
    "description": "说明",
    "device_id": "设备",
    "dry_run": "仅检查",
    "enabled": "启用状态",
    "ends_at": "结束时间",
    "entity_id": "对象编号",
    "entity_type": "对象类型",
    "exam_id": "考试",
    "external_ref": "外网编号",
    "form": "申请表",
    "gender": "性别",
    "has_photo": "有无照片",
    "holder_name": "持证人姓名",
    "include_subtree": "包含下级机构",
    "is_police": "是否民警",
    "issued_from": "发证日期（起）",
    "issued_to": "发证日期（止）",
    "key_id": "密钥",
    "material_id": "材料",
    "note": "备注",
    "number": "编号",
    "opinion": "意见",
    "overdue": "是否超期",
    "page": "页码",
    "page_size": "每页条数",
    "pass_rule_id": "成绩合格标准",
    "payload": "二维码内容",
    "persons": "人员",
    "photo_ref": "照片",
    "print_state": "打印状态",
    "public_key": "公钥",
    "q": "查询内容",
    "reason": "原因",
    "region": "区域",
    "role_id": "角色",
    "round": "轮次",
    "score": "成绩",
    "scores": "成绩",
    "seats": "考位数",
    "seq": "序号",
    "since": "开始时间",
    "slot": "存储位置",
    "sort": "排序",
    "source_name": "来源",
    "starts_at": "开始时间",
    "state": "状态",
    "status": "状态",
    "text": "内容",
    "training_unit": "培训单位",
    "until": "结束时间",
    "user_id": "用户",
    "with_counts": "是否统计",
}


def field_label(field: str) -> str:
    """The Chinese name of the field at ``field`` (a dotted location, "persons.0.id_number"):
    its innermost named part that has one, else a generic name (never the English one)."""
    parts = [part for part in field.split(".") if part and not part.isdigit()]
    for part in reversed(parts):
        label = _FIELD_LABELS.get(part)
        if label is not None:
            return label
    return "提交的数据" if parts else "请求"


def body(code: ErrorCode, message: str | None = None, details: Any = None) -> dict[str, Any]:
    return {"code": code.value, "message": message or code.message, "details": details}


def _field_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    errors = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        if error["type"] == "value_error":
            text = str(error.get("ctx", {}).get("error", error["msg"]))
        elif error["type"] in _TEXT_LENGTH and isinstance(error.get("input"), str):
            # a length bound applied after a validator (a form field of ``Text``) reports
            # the generic sequence error: for text it is about characters, not items
            text = _PYDANTIC_MESSAGES[_TEXT_LENGTH[error["type"]]]
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
            message = f"{field_label(first['field'])}：{first['message']}"
        return JSONResponse(body(ErrorCode.VALIDATION_ERROR, message, errors), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        """The framework's own refusals (no route, wrong method, a body it cannot parse, one too
        large) keep their status and headers (``Allow`` on 405) and get a client-error code."""
        code = _HTTP_CODES.get(exc.status_code)
        if code is None:
            code = ErrorCode.BAD_REQUEST if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
        details = getattr(exc, "details", None)
        headers = exc.headers
        allowed = getattr(request.app.state, "allowed_methods", None)
        if exc.status_code == 405 and allowed is not None and allowed.at(request.url.path):
            headers = {**(headers or {}), "Allow": allowed.at(request.url.path)}
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
