from fastapi import APIRouter

from server.api.deps import ContextDep, SignedIn, read_only
from server.api.responses import ModelRoute
from shared import __version__
from shared.schemas.roles import PermissionCatalogue
from shared.schemas.system import Health

router = APIRouter(tags=["system"], route_class=ModelRoute)


# async: nothing here waits, so it runs on the event loop without a trip to the thread pool
@router.get("/health", response_model=Health)
async def health(context: ContextDep) -> Health:
    return Health(status="ok", database=context.settings.database_kind, version=__version__)


@read_only(router, "/permissions", response_model=PermissionCatalogue)
def permissions(_: SignedIn) -> PermissionCatalogue:
    return PermissionCatalogue.build()
