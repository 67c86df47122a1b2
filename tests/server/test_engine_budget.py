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

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bench.engine import Counter, one_application, world
from server.config import Settings
from server.db.approval_models import Application, IssuedDocument
from server.db.session import create_session_factory
from server.services import bootstrap
from server.services.audit import verify_chain
from server.services.documents.signing import DocumentSigner

# intake 9, screening 7, approvals 8 + 7 + 10 (the next step's bureau and the issuing
# authority come with the claim); on PostgreSQL one fewer each (the audit head moves and the
# records are inserted in one statement)
STATEMENTS = {"sqlite": 41, "postgresql": 36}
TRANSACTIONS = 5  # one per action: intake, screening, three approvals


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
    counter = Counter(engine)
    application_id = one_application(sessions, desk, signer, 1, now + timedelta(minutes=1))
    counter.close(engine)

    kind = engine.dialect.name
    assert counter.commits == TRANSACTIONS
    assert counter.statements <= STATEMENTS[kind], (
        f"{counter.statements} statements for one company licence on {kind}; "
        f"the budget is {STATEMENTS[kind]}"
    )
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
