"""The engine's statement budget: what one company licence costs the database, intake to licence.

Throughput is measured in ``bench/engine.py`` (timing does not belong in tests); what makes it is
counted here, deterministically, on both engines: SQL statements and transactions for intake,
screening and three approvals (the last issuing the licence), each action in a fresh session as
the API runs it. A change that adds a query to this path fails here and must either find a way
around it or raise the budget on purpose.

Counted after one application has gone through, as on a running server: the process definition
is parsed and the audit tip known (cold, the first application also reads the definition's
content and claims the audit head the long way).
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bench.engine import Counter, one_application, world
from server.config import Settings
from server.db.approval_models import Application, IssuedDocument
from server.db.session import create_session_factory
from server.services import bootstrap
from server.services.audit import verify_chain
from server.services.documents.signing import DocumentSigner

ACTIONS = ("intake", "screening", "county approval", "city approval", "final approval")
STATEMENTS = {
    # the next step's bureaus and the issuing authority come with the claim; the final approval
    # also numbers, reads the people for and writes the licence
    "sqlite": {
        "intake": 8,  # the bureaus come with the latest definition
        "screening": 7,
        "county approval": 8,  # with the screening gate
        "city approval": 7,
        "final approval": 10,
    },
    # the claim and its read are one statement; the rows nobody reads back (steps, log lines,
    # results, people, the decision) go with the audit records at commit (``db/write_behind``)
    "postgresql": {
        "intake": 4,
        "screening": 4,
        "county approval": 3,
        "city approval": 2,
        "final approval": 5,
    },
}


class PerAction(Counter):
    """Statements and commits, per action of ``one_application`` (each ends with its commit)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.per_commit: list[int] = []
        self._at = 0

    def _commit(self, *args: Any) -> None:
        super()._commit(*args)
        self.per_commit.append(self.statements - self._at)
        self._at = self.statements


def test_a_company_licence_stays_within_its_statement_budget(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    sessions = create_session_factory(engine)
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    signer = DocumentSigner(settings.model_copy(update={"data_dir": tmp_path}))
    with sessions() as session:
        bootstrap.init_db(engine, session, now=now, province="330000")
        desk = world(session, now)
    one_application(sessions, desk, signer, 0, now)  # warm: definition parsed, audit tip known
    counter = PerAction(engine)
    application_id = one_application(sessions, desk, signer, 1, now + timedelta(minutes=1))
    counter.close(engine)

    kind = engine.dialect.name
    assert counter.commits == len(ACTIONS)  # one transaction per action
    spent = dict(zip(ACTIONS, counter.per_commit, strict=True))
    over = {a: (spent[a], budget) for a, budget in STATEMENTS[kind].items() if spent[a] > budget}
    assert not over, f"statements over budget on {kind} (spent, budget): {over}"
    with sessions() as session:
        _assert_complete(session, application_id)


def _assert_complete(session: Session, application_id: int) -> None:
    """The budget bought everything: approved, licence issued, audit chain intact."""
    application = session.get(Application, application_id)
    assert application is not None and application.status == "approved"
    document = session.scalar(
        select(IssuedDocument).where(IssuedDocument.application_id == application_id)
    )
    assert document is not None and document.kind == "service_licence"
    assert verify_chain(session).ok
