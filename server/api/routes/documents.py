"""Routes: verifying an issued document from its QR code (number and verification code)."""

from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import ContextDep, SessionDep, permission
from server.api.responses import ModelRoute
from server.services.authz import Principal
from server.services.documents import issue
from shared.schemas.applications import DocumentVerification

router = APIRouter(prefix="/documents", tags=["documents"], route_class=ModelRoute)


@router.get("/verify", response_model=DocumentVerification)
def verify(
    number: Annotated[str, Query(min_length=1, max_length=64, description="证照编号")],
    code: Annotated[str, Query(min_length=1, max_length=64, description="核验码")],
    principal: Annotated[Principal, permission("applications:view")],
    session: SessionDep,
    context: ContextDep,
) -> DocumentVerification:
    """Any officer who may view applications can check a document presented to them, wherever
    it was issued: the number and code prove the paper was seen, and an answer names only the
    holder and the issuing authority."""
    return issue.verify(session, context.signer, number, code)
