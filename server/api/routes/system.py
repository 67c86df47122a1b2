from fastapi import APIRouter

from server.api.deps import ContextDep, SignedIn
from shared import __version__
from shared.schemas.roles import PermissionCatalogue
from shared.schemas.system import Health

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health)
def health(context: ContextDep) -> Health:
    return Health(status="ok", database=context.settings.database_kind, version=__version__)


@router.get("/permissions", response_model=PermissionCatalogue)
def permissions(_: SignedIn) -> PermissionCatalogue:
    return PermissionCatalogue.build()
