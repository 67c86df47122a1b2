"""Routes: 审批流程定义 (list the published processes, their versions, publish a new one)."""

from typing import Annotated

from fastapi import APIRouter

from server.api.deps import NowDep, SessionDep, permission
from server.api.responses import ModelRoute
from server.services.approvals import publishing
from server.services.approvals.definition_files import DefinitionError, parse_definition
from server.services.authz import Principal
from shared.enums import BusinessType
from shared.schemas.workflows import WorkflowPublic, WorkflowPublish

router = APIRouter(prefix="/workflows", tags=["workflows"], route_class=ModelRoute)


@router.get("", response_model=list[WorkflowPublic])
def list_workflows(
    principal: Annotated[Principal, permission("workflows:view")], session: SessionDep
) -> list[WorkflowPublic]:
    """The latest version of every business type that has one."""
    return [publishing.to_public(row) for row in publishing.latest_all(session)]


@router.get("/{business_type}/versions", response_model=list[WorkflowPublic])
def list_versions(
    business_type: BusinessType,
    principal: Annotated[Principal, permission("workflows:view")],
    session: SessionDep,
) -> list[WorkflowPublic]:
    """Every published version of one business type, newest first."""
    rows = publishing.list_published(session, business_type=business_type)
    return [publishing.to_public(row) for row in rows]


@router.post("", response_model=WorkflowPublic, status_code=201)
def publish_workflow(
    body: WorkflowPublish,
    principal: Annotated[Principal, permission("workflows:publish")],
    session: SessionDep,
    now: NowDep,
) -> WorkflowPublic:
    """Validate YAML text and publish it; unchanged content answers the latest version.

    Problems answer 422 WORKFLOW_INVALID with ``details`` = ``[{"line", "message"}, …]``.
    """
    try:
        definition = parse_definition(body.text, body.source_name)
    except DefinitionError as err:
        raise publishing.invalid(err) from err
    row = publishing.publish(
        session,
        definition,
        source_name=body.source_name,
        source_text=body.text,
        now=now,
        actor=principal.actor,
    )
    session.commit()
    return publishing.to_public(row)
