"""Routes: 申请材料 — upload to an application, list them, download one."""

from collections.abc import Iterator
from typing import Annotated, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import FileResponse

from server.api.deps import ContextDep, NowDep, SessionDep, permission
from server.api.guards import upload_limit
from server.api.openapi import raises
from server.api.responses import ModelRoute
from server.services.approvals.access import get_application
from server.services.authz import Principal
from server.services.errors import AppError
from server.services.materials import records
from server.services.materials.store import MaterialStore
from shared.approvals import MaterialKind
from shared.errors import ErrorCode
from shared.schemas.common import INT32_MAX, Id, Text
from shared.schemas.materials import TITLE_MAX, MaterialPublic

router = APIRouter(tags=["materials"], route_class=ModelRoute)

CHUNK_BYTES = 1024 * 1024


def store_of(context: ContextDep) -> MaterialStore:
    return MaterialStore(context.settings.data_dir / "materials")


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(CHUNK_BYTES):
        yield chunk


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266 / RFC 5987)."""
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post(
    "/applications/{application_id}/materials",
    response_model=MaterialPublic,
    status_code=201,
    openapi_extra={
        **upload_limit("material_max_bytes"),
        **raises(ErrorCode.MATERIAL_TYPE_REFUSED, ErrorCode.MATERIAL_TOO_LARGE),
    },
)
def upload_material(
    application_id: Id,
    file: Annotated[UploadFile, File(description="PDF、JPEG 或 PNG 文件")],
    title: Annotated[Text, Form(max_length=TITLE_MAX, description="材料名称")],
    principal: Annotated[Principal, permission("applications:intake")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> MaterialPublic:
    application = get_application(session, principal, application_id)
    material = records.add_material(
        session,
        principal,
        application,
        title=title,
        filename=file.filename,
        chunks=_chunks(file.file),
        store=store_of(context),
        max_bytes=context.settings.material_max_bytes,
        now=now,
    )
    session.commit()
    return records.to_public(material)


@router.get("/applications/{application_id}/materials", response_model=list[MaterialPublic])
def list_materials(
    application_id: Id,
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
    round: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
) -> list[MaterialPublic]:
    application = get_application(session, principal, application_id)
    return [records.to_public(m) for m in records.list_materials(session, application, round=round)]


@router.get(
    "/materials/{material_id}/content",
    response_class=FileResponse,
    responses={200: {"content": {kind.value: {} for kind in MaterialKind}}},
)
def download_material(
    material_id: Id,
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
    context: ContextDep,
) -> FileResponse:
    material = records.get_material(session, principal, material_id)
    path = store_of(context).path(material.sha256)
    if not path.is_file():
        raise AppError(
            ErrorCode.INTERNAL_ERROR,
            message="材料文件在服务器上缺失，请联系系统管理员",
            details={"material_id": material.id},
        )
    return FileResponse(
        path,
        media_type=material.media_type,
        headers={
            "Content-Disposition": content_disposition(material.filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
