"""Concurrent writers never fork the audit chain nor fail on a busy database."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Org
from server.db.session import create_session_factory
from server.services.audit import verify_chain
from server.services.auth import find_user
from server.services.authz import principal_for
from server.services.orgs import create_org
from shared.enums import OrgType
from shared.schemas.orgs import OrgCreate
from tests.server.conftest import ADMIN


def test_parallel_org_creation_keeps_one_chain(app, initialised: Session, clock) -> None:  # type: ignore[no-untyped-def]
    factory = create_session_factory(app.state.engine)
    with factory() as session:
        admin = find_user(session, ADMIN)
        assert admin is not None
        principal = principal_for(session, admin)
        root_id = admin.org_id

    def work(worker: int) -> int:
        with factory() as session:
            for n in range(5):
                # a read first, so a SQLite transaction must upgrade from reading to writing
                session.scalar(select(func.count()).select_from(Org))
                create_org(
                    session,
                    principal,
                    now=clock.now(),
                    data=OrgCreate(
                        name=f"并发{worker}-{n}派出所",
                        parent_id=root_id,
                        type=OrgType.police_station,
                        region_code="330102",
                    ),
                )
        return worker

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert sorted(pool.map(work, range(6))) == list(range(6))
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Org)) == 31
        report = verify_chain(session)
        assert report.ok, report.problems
