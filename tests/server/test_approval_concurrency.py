"""Twenty clerks approve the same step at the same moment: exactly one wins, nothing is lost."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import ApprovalLogEntry, ApprovalTask
from server.db.models import User
from server.db.session import create_db_engine, create_session_factory
from server.services.approvals import actions
from server.services.audit import verify_chain
from server.services.authz import principal_for
from server.services.documents.signing import DocumentSigner
from server.services.errors import AppError
from shared.enums import BusinessType
from tests.server.approval_world import World, application_body, build

WORKERS = 20


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


def test_twenty_concurrent_approvals_one_succeeds(
    world: World, settings: Settings, clock: FrozenClock
) -> None:
    body = application_body(BusinessType.annual_report_filing)
    created = world.apis["intake"].post("/applications", 201, json=body).json()
    # every worker holds a connection at the barrier, so the pool must have room for all of them
    engine = create_db_engine(settings.database_url, pool_size=WORKERS)
    factory = create_session_factory(engine)
    clerks = [world.users["xh_clerk"].id, world.users["xh_clerk2"].id]
    barrier = threading.Barrier(WORKERS)

    def attempt(n: int) -> str:
        with factory() as session:
            user = session.get(User, clerks[n % 2])
            assert user is not None
            principal = principal_for(session, user)
            barrier.wait(timeout=60)
            try:
                actions.approve(
                    session,
                    principal,
                    created["id"],
                    version=created["version"],
                    opinion=f"并发{n}",
                    now=clock.now(),
                    signer=DocumentSigner(settings),
                )
            except AppError as err:
                return str(err.code)
            return "ok"

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(attempt, range(WORKERS)))
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) == {"ok", "STALE_VERSION"}
    with factory() as session:
        approvals = session.scalar(
            select(func.count())
            .select_from(ApprovalLogEntry)
            .where(
                ApprovalLogEntry.application_id == created["id"],
                ApprovalLogEntry.action == "approve",
            )
        )
        assert approvals == 1
        tasks = session.scalars(
            select(ApprovalTask).where(ApprovalTask.application_id == created["id"])
        ).all()
        assert sorted(t.status for t in tasks) == ["done", "pending"]
        assert verify_chain(session).ok
    engine.dispose()
