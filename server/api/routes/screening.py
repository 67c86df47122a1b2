"""Routes: 人员背景审查 (run and view an application's screening, import the watch list)."""

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, UploadFile

from server.api.deps import ContextDep, NowDep, SessionDep, permission
from server.api.guards import upload_limit
from server.api.responses import ModelRoute
from server.config import Settings
from server.services import screening
from server.services.approvals.access import get_application
from server.services.authz import Principal
from server.services.errors import AppError
from server.services.spreadsheets import ImportLimits
from shared.errors import ErrorCode
from shared.schemas.common import Id
from shared.schemas.screening import ScreeningSummaryPublic, WatchListImportReport

router = APIRouter(tags=["screening"], route_class=ModelRoute)


def import_limits(settings: Settings) -> ImportLimits:
    return ImportLimits(
        max_bytes=settings.import_max_bytes,
        max_unpacked_bytes=settings.import_max_unpacked_bytes,
        max_rows=settings.import_max_rows,
    )


@router.get("/applications/{application_id}/screening", response_model=ScreeningSummaryPublic)
def get_screening(
    application_id: Id,
    principal: Annotated[Principal, permission("screening:view")],
    session: SessionDep,
) -> ScreeningSummaryPublic:
    application = get_application(session, principal, application_id)
    return screening.to_public(screening.summary(session, application), principal)


@router.post("/applications/{application_id}/screening", response_model=ScreeningSummaryPublic)
def run_screening(
    application_id: Id,
    principal: Annotated[Principal, permission("screening:run")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> ScreeningSummaryPublic:
    application = get_application(session, principal, application_id)
    provider = screening.provider_for(context.settings, session)
    screening.run_screening(session, principal, application, provider=provider, now=now)
    session.commit()
    return screening.to_public(screening.summary(session, application), principal)


@router.post(
    "/screening/watch-list",
    response_model=WatchListImportReport,
    openapi_extra=upload_limit("import_max_bytes"),
)
def import_watch_list(
    file: UploadFile,
    principal: Annotated[Principal, permission("screening:import")],
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> WatchListImportReport:
    """Upload an xlsx or csv watch list; all rows or none (errors name row and column)."""
    name = Path((file.filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch >= " ")
    suffix = Path(name).suffix.lower()
    name = name[:200]  # for the audit record only: the file is saved under a name of ours
    if suffix not in {".xlsx", ".csv"}:
        raise AppError(ErrorCode.IMPORT_INVALID, "只能导入 .xlsx 或 .csv 文件")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"watch-list{suffix}"
        with path.open("wb") as target:
            shutil.copyfileobj(file.file, target)
        report = screening.import_watch_list(
            session,
            path,
            now=now,
            actor=principal.actor,
            limits=import_limits(context.settings),
            source_name=name,
        )
    session.commit()
    return WatchListImportReport(
        added=report.added, updated=report.updated, unchanged=report.unchanged
    )
