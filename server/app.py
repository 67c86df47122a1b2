"""``create_app(settings)``: the FastAPI application. Nothing is created at import time."""

from fastapi import FastAPI

from server.api.admission import Admission
from server.api.deps import AppContext
from server.api.errors import AllowedMethods, install_error_handlers
from server.api.guards import RequestGuard
from server.api.openapi import install_openapi
from server.api.routes import (
    applications,
    audit,
    auth,
    certificate_printing,
    certificates,
    documents,
    exam_scores,
    exams,
    inbox,
    materials,
    orgs,
    roles,
    screening,
    sync,
    system,
    users,
    workflows,
)
from server.clock import Clock, SystemClock
from server.config import Settings
from server.db.session import (
    create_db_engine,
    create_session_factory,
    ensure_sqlite_folder,
    read_engine_for,
)
from server.services.authz_cache import PrincipalCache
from server.services.certificates.keys import CertificateKeys
from server.services.certificates.public import lookup_window
from server.services.documents.signing import DocumentSigner
from server.services.notifications import Sender, sender_from_settings
from server.services.passwords import Passwords
from server.services.throttle import SignInThrottle
from shared import __version__

API_PREFIX = "/api/v1"
# Requests are matched router by router, route by route: the inbox, by far the most requested
# page (every clerk's start screen, polled for the badge), comes first. Its paths share no
# prefix with any other router, so the order changes nothing else.
ROUTERS = (
    inbox.router,
    system.router,
    auth.router,
    orgs.router,
    roles.router,
    users.router,
    audit.router,
    workflows.router,
    applications.router,
    documents.router,
    materials.router,
    screening.router,
    exams.router,
    certificates.router,
    exam_scores.router,
    certificate_printing.router,
    sync.router,
)


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, sender: Sender | None = None
) -> FastAPI:
    settings = settings or Settings()
    ensure_sqlite_folder(settings.database_url)
    engine = create_db_engine(
        settings.database_url,
        pool_size=settings.db_connections,
        pool_timeout=settings.db_queue_seconds,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    app = FastAPI(
        title="SGSS 保安服务监管信息系统",
        version=__version__,
        openapi_url="/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.engine = engine
    app.state.read_engine = read_engine_for(engine)
    app.state.session_factory = create_session_factory(engine)
    app.state.admission = Admission(settings)
    app.state.principals = PrincipalCache()
    app.state.context = AppContext(
        settings=settings,
        clock=clock or SystemClock(),
        passwords=Passwords(settings),
        sender=sender or sender_from_settings(settings),
        signer=DocumentSigner(settings),
        throttle=SignInThrottle(settings),
        certificate_keys=CertificateKeys(settings.data_dir),
        certificate_lookups=lookup_window(settings),
    )
    install_error_handlers(app)
    app.add_middleware(RequestGuard, settings=settings)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    install_openapi(app, settings, ROUTERS, API_PREFIX)
    app.state.allowed_methods = AllowedMethods(ROUTERS, API_PREFIX)
    return app
