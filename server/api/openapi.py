"""The API description states every answer an operation can give, derived in one place.

Each operation's error responses follow from what it declares, not from a list kept by hand:
an authentication dependency can answer 401 (and 403 when it checks a permission or a usable
account), path parameters 404, query or path parameters 422, a body 400/404/409/413/422, a
write 409, a database session 503 (``DATABASE_RECONNECTED``). A route adds what only it can
answer with ``raises(ErrorCode.X, …)``. Every error answer has the ``ErrorBody`` schema, and
operations with a body state the most bytes it may have (``x-max-body-bytes``).
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter

from server.api.deps import Authenticate, Require, get_session
from server.api.guards import UPLOAD_SETTING, body_limit
from server.config import Settings
from shared.errors import ErrorCode
from shared.schemas.common import ErrorBody

ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
RAISES_KEY = "x-raises"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_DESCRIPTIONS = {
    400: "请求无法解析",
    401: "未登录或登录已失效",
    403: "无权执行",
    404: "记录不存在或不在数据范围内",
    409: "与现有数据冲突",
    413: "提交的内容过大",
    415: "文件类型不被接受",
    422: "提交的数据有误",
    423: "账号已锁定",
    429: "请求过于频繁",
    503: "暂时无法处理，请重试",
}


def raises(*codes: ErrorCode) -> dict[str, Any]:
    """``openapi_extra`` of a route that can answer an error the rules here cannot see."""
    return {RAISES_KEY: [code.value for code in codes]}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def error_statuses(route: APIRoute) -> set[int]:
    calls = list(_calls(route.dependant))
    statuses: set[int] = set()
    if any(isinstance(call, Require) for call in calls):
        statuses |= {401, 403}
    elif any(isinstance(call, Authenticate) for call in calls):
        statuses.add(401)
    dependant = route.dependant
    if dependant.path_params:
        statuses |= {404, 422}
    if dependant.query_params:
        statuses.add(422)
    if route.body_field is not None:
        statuses |= {400, 404, 413, 422}
    if (route.methods or set()) & WRITES and get_session in calls:
        statuses.add(409)
    if get_session in calls:
        statuses.add(503)
    for code in (route.openapi_extra or {}).get(RAISES_KEY, ()):
        statuses.add(ErrorCode[code].status)
    return statuses


def _description(status: int) -> str:
    codes = ", ".join(code.value for code in ErrorCode if code.status == status)
    text = _DESCRIPTIONS.get(status, "错误")
    return f"{text}（code: {codes or ErrorCode.BAD_REQUEST.value}）"


def _document(operation: dict[str, Any], route: APIRoute, settings: Settings) -> None:
    responses = operation.setdefault("responses", {})
    for status in sorted(error_statuses(route)):
        responses[str(status)] = {
            "description": _description(status),
            "content": {"application/json": {"schema": ERROR_REF}},
        }
    operation.pop(RAISES_KEY, None)
    setting = operation.pop(UPLOAD_SETTING, None)
    if route.body_field is not None or setting is not None:
        operation["x-max-body-bytes"] = body_limit(route.openapi_extra, settings)


def install_openapi(
    app: FastAPI, settings: Settings, routers: Iterable[APIRouter], prefix: str
) -> None:
    """Replace ``app.openapi`` by FastAPI's description completed with every error answer."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = default()
        schema.setdefault("components", {}).setdefault("schemas", {})["ErrorBody"] = (
            ErrorBody.model_json_schema()
        )
        for router in routers:
            for route in router.routes:
                if not isinstance(route, APIRoute) or not route.include_in_schema:
                    continue
                path = schema["paths"].get(prefix + route.path, {})
                for method in route.methods or ():
                    if method.lower() in path:
                        _document(path[method.lower()], route, settings)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
