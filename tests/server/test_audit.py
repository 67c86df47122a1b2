"""The audit log is append-only and hash-chained; tampering is detected."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.services.audit import verify_chain
from shared.audit_actions import AuditAction, AuditEntity
from tests.server.conftest import Api
from tests.server.world import two_cities


def _drop_guard(session: Session) -> None:
    """What an attacker with database rights would do first."""
    if session.bind.dialect.name == "postgresql":  # type: ignore[union-attr]
        session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_log_no_update"))
        session.execute(text("DROP TRIGGER audit_log_no_delete"))
    session.commit()


@pytest.fixture
def busy_log(client: TestClient, admin: Api, session: Session) -> Session:
    two_cities(admin, client)
    assert verify_chain(session).ok
    return session


def test_every_change_and_login_is_recorded(client: TestClient, admin: Api) -> None:
    hz, _ = two_cities(admin, client)
    client.post("/api/v1/auth/login", json={"username": "hz_admin", "password": "bad"})
    actions = [e["action"] for e in admin.get("/audit", params={"page_size": 500}).json()["items"]]
    for expected in (
        "org.create",
        "role.create",
        "user.create",
        "auth.login",
        "auth.login_failed",
        "user.password_changed",
    ):
        assert expected in actions
    admin.patch(f"/orgs/{hz.county_id}", 200, json={"phone": "0571-86000000"})
    entry = admin.get("/audit", params={"action": "org.update"}).json()["items"][0]
    assert entry["before"] == {"phone": None} and entry["after"] == {"phone": "0571-86000000"}
    assert entry["actor_name"] == "系统管理员(root)"


def test_database_refuses_update_and_delete(busy_log: Session) -> None:
    for statement in (
        "UPDATE audit_log SET actor_name = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            busy_log.execute(text(statement))
        busy_log.rollback()
    assert verify_chain(busy_log).ok


def test_changed_row_is_detected(busy_log: Session) -> None:
    _drop_guard(busy_log)
    busy_log.execute(text("UPDATE audit_log SET actor_name = '他人' WHERE seq = 5"))
    busy_log.commit()
    report = verify_chain(busy_log)
    assert not report.ok
    assert report.problems == ["第5条记录内容已被修改"]


def test_deleted_row_is_detected(busy_log: Session) -> None:
    _drop_guard(busy_log)
    busy_log.execute(text("DELETE FROM audit_log WHERE seq = 7"))
    busy_log.commit()
    report = verify_chain(busy_log)
    assert "第7至7条记录缺失（已被删除）" in report.problems


def test_deleted_tail_is_detected(busy_log: Session) -> None:
    _drop_guard(busy_log)
    last = busy_log.scalar(text("SELECT max(seq) FROM audit_log"))
    busy_log.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})
    busy_log.commit()
    report = verify_chain(busy_log)
    assert len(report.problems) == 1 and "末尾" in report.problems[0]


def test_rehashed_forgery_still_breaks_the_link(busy_log: Session) -> None:
    """Recomputing one row's hash does not help: the next row still points at the old one."""
    from server.db.models import AuditEntry
    from server.services.audit import _digest

    _drop_guard(busy_log)
    entry = busy_log.get(AuditEntry, 3)
    assert entry is not None
    entry.actor_name = "伪造"
    entry.hash = _digest(entry)
    busy_log.commit()
    assert verify_chain(busy_log).problems == ["第4条记录与前一条的链接断开"]


def _count_statements(session: Session) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []
    event.listen(
        session.get_bind(), "before_cursor_execute", lambda *a: seen.append(a[2].split()[0])
    )
    return seen


def _record(session: Session, clock, action: AuditAction, n: int = 0) -> None:  # type: ignore[no-untyped-def]
    from server.services.audit import CLI_ACTOR, record

    record(
        session,
        now=clock.now(),
        actor=CLI_ACTOR,
        action=action,
        entity_type=AuditEntity.DATABASE,
        entity_id=n,
    )


def test_a_transactions_records_are_chained_at_commit_in_one_statement(
    session: Session, initialised: Session, clock
) -> None:  # type: ignore[no-untyped-def]
    """This process wrote the tip, so one conditional UPDATE checks and moves the head."""
    from server.db.models import AuditEntry

    _record(session, clock, AuditAction.ROLE_DELETE)
    session.commit()  # the tip is now this process's own
    start = session.scalar(text("SELECT seq FROM audit_head WHERE id = 1"))
    for n in range(3):
        _record(session, clock, AuditAction.ORG_DELETE, n)
    session.flush()
    assert session.scalar(text("SELECT max(seq) FROM audit_log")) == start  # nothing yet
    statements = _count_statements(session)
    session.commit()
    # one move of the head (checked against the known tip), one insert of the three; on
    # PostgreSQL both in one statement (the insert happens only if the head moved)
    if session.get_bind().dialect.name == "postgresql":
        assert statements == ["WITH"], statements
    else:
        assert statements == ["UPDATE", "INSERT"], statements
    rows = session.scalars(
        text("SELECT seq FROM audit_log WHERE action = 'org.delete' ORDER BY seq")
    ).all()
    assert rows == [start + 1, start + 2, start + 3]
    assert session.get(AuditEntry, start + 3) is not None
    assert verify_chain(session).ok


def test_a_head_moved_by_another_process_is_claimed_afresh(
    session: Session, initialised: Session, settings, clock
) -> None:  # type: ignore[no-untyped-def]
    """Another server process (another engine) appended since: the remembered tip does not
    match, nothing is written on it, and the records are chained onto the real tip."""
    from server.db.session import create_db_engine, create_session_factory

    _record(session, clock, AuditAction.USER_UNLOCK)
    session.commit()
    other_engine = create_db_engine(settings.database_url)
    try:
        with create_session_factory(other_engine)() as other:
            _record(other, clock, AuditAction.USER_PASSWORD_RESET)
            other.commit()
    finally:
        other_engine.dispose()
    for n in range(2):
        _record(session, clock, AuditAction.ROLE_CREATE, n)
    statements = _count_statements(session)
    session.commit()
    # the failed check (on PostgreSQL with the insert it withheld), the claim of two numbers,
    # the move of the tip, the insert
    first = "WITH" if session.get_bind().dialect.name == "postgresql" else "UPDATE"
    assert statements == [first, "UPDATE", "UPDATE", "INSERT"], statements
    actions = session.scalars(text("SELECT action FROM audit_log ORDER BY seq DESC LIMIT 4")).all()
    assert actions == ["role.create", "role.create", "user.password_reset", "user.unlock"]
    assert verify_chain(session).ok


def test_a_rolled_back_transaction_leaves_no_record_and_no_gap(
    session: Session, initialised: Session, clock
) -> None:  # type: ignore[no-untyped-def]
    from server.services.audit import CLI_ACTOR, record

    start = session.scalar(text("SELECT max(seq) FROM audit_log"))
    record(
        session,
        now=clock.now(),
        actor=CLI_ACTOR,
        action=AuditAction.ORG_DELETE,
        entity_type=AuditEntity.DATABASE,
    )
    session.rollback()
    record(
        session,
        now=clock.now(),
        actor=CLI_ACTOR,
        action=AuditAction.ROLE_DELETE,
        entity_type=AuditEntity.DATABASE,
    )
    session.commit()
    actions = session.scalars(text("SELECT action FROM audit_log WHERE seq > :s"), {"s": start})
    assert actions.all() == ["role.delete"]
    assert verify_chain(session).ok
