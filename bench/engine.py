"""Engine throughput: ``make bench-engine`` (``python -m bench.engine [--applications N]``).

What bulk paths (sync applying thousands of records, demo generation) depend on: how many
company-licence applications per second the engine carries from intake through screening and
its three approvals (county, city, province; the last issues the licence PDF), each action in
a session and transaction of its own as the API runs it (nothing carried over in the session's
identity map), with every guarantee (audit chain, approval log, gates, version checks, routing).
Counted beside the time: SQL statements and transactions per application.

For scale, the same run measures SpiffWorkflow (installed only for this benchmark:
``pip install SpiffWorkflow``) on the same database, the way a BPMN engine is usually embedded:
the whole workflow state serialised to JSON and saved at every step, reloaded for the next —
with none of the audit, log, gates or checks. The two sides take turns, run by run, so a machine
busy with something else slows both alike. SQLite is measured under both commit modes
(``--sqlite-synchronous``; ``docs/DURABILITY.md``): with ``full``, the server's default, every
commit waits for an fsync whatever the engine does. Targets: ≥ 150 applications/s on SQLite and
≥ 100 on PostgreSQL. Beside the rate, each side's CPU time per application in this process (the
database server's own CPU not included): on a machine busy with other work the rate follows the
load, the CPU time much less. The statement count is asserted per action in
``tests/server/test_engine_budget.py``. The process's heap is settled first as the server's
is (``server/heap.py``), so a full collection of everything imported does not land in a run.
"""

import argparse
import itertools
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from bench.scratch import scratch_database
from server import heap
from server.db.approval_models import Application
from server.db.models import Org, Role, RolePermission, User, UserApprovalRole, UserRole
from server.db.session import create_db_engine, create_session_factory
from server.services import bootstrap
from server.services.approvals import actions, intake
from server.services.approvals.access import get_application
from server.services.authz import Principal, principal_for
from server.services.documents.signing import DocumentSigner
from server.services.orgs import add_org
from server.services.screening.runs import run_screening
from server.services.screening.watchlist import WatchListProvider
from shared.approvals import ApplicantKind, PersonRole
from shared.enums import ApprovalRole, BusinessType, OrgType
from shared.idnumber import check_char
from shared.schemas.applications import ApplicationCreate, PersonIn

TARGETS = {"sqlite": 150.0, "postgresql": 100.0}
WARMUP = 20
PERMISSIONS = ["applications:view", "applications:view_internal", "applications:approve"]
PERMISSIONS += ["applications:intake", "screening:view", "screening:run"]


def _id_number(region: str, n: int) -> str:
    first17 = f"{region}19800101{n % 1000:03d}"
    return first17 + check_char(first17)


def _body(n: int) -> ApplicationCreate:
    def person(role: PersonRole, k: int) -> PersonIn:
        return PersonIn(role=role, name=f"人员{k}", id_number=_id_number("330106", n * 3 + k))

    return ApplicationCreate(
        business_type=BusinessType.company_licence,
        applicant_kind=ApplicantKind.unit,
        applicant_name=f"杭州第{n}保安服务有限公司",
        applicant_code="91330106MA2B3C4D5E",
        region_code="330106",
        form={
            "unit_name": f"杭州第{n}保安服务有限公司",
            "credit_code": "91330106MA2B3C4D5E",
            "address": "杭州市西湖区文三路1号",
            "phone": "0571-88000000",
            "registered_capital_wan": 1000,
            "service_scope": "门卫、巡逻",
            "staff_planned": 50,
        },
        persons=[person(PersonRole.legal_rep, 0), person(PersonRole.principal, 1)],
    )


@dataclass
class Desk:
    intake: Principal
    county: Principal
    city: Principal
    province: Principal


def world(session: Session, now: datetime) -> Desk:
    """Bureaus of 西湖区 and 杭州市 under the province, and one account per desk."""
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
    assert root is not None
    city = add_org(
        session, now=now, parent=root, name="杭州市公安局", type=OrgType.city_bureau,
        region_code="330100",
    )  # fmt: skip
    county = add_org(
        session, now=now, parent=city, name="西湖区分局", type=OrgType.county_bureau,
        region_code="330106",
    )  # fmt: skip
    role = Role(org_id=root.id, name="审批", data_scope_kind="all", created_at=now, updated_at=now)
    role.permission_rows = [RolePermission(permission=p) for p in PERMISSIONS]
    session.add(role)
    session.flush()
    levels = {
        "intake": (root, []),
        "county": (county, [ApprovalRole.county_clerk]),
        "city": (city, [ApprovalRole.city_clerk]),
        "province": (root, [ApprovalRole.province_clerk]),
    }
    principals = {}
    for name, (org, approval) in levels.items():
        user = User(
            username=f"bench_{name}", name=name, org_id=org.id, password_hash="-",  # noqa: S106  (never signs in)
            must_change_password=False, created_at=now, updated_at=now,
        )  # fmt: skip
        user.role_rows = [UserRole(role_id=role.id)]
        user.approval_role_rows = [
            UserApprovalRole(business_type=str(BusinessType.company_licence), approval_role=str(r))
            for r in approval
        ]
        session.add(user)
        session.commit()
        principals[name] = principal_for(session, user)
    return Desk(**principals)


class Counter:
    """Statements and commits on an engine, from its own events."""

    def __init__(self, engine: Engine) -> None:
        self.statements = 0
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    def close(self, engine: Engine) -> None:
        event.remove(engine, "before_cursor_execute", self._statement)
        event.remove(engine, "commit", self._commit)


def one_application(
    sessions: sessionmaker[Session], desk: Desk, signer: DocumentSigner, n: int, now: datetime
) -> int:
    """Intake, screening and the three approvals of one company licence, each action in a
    session and transaction of its own, the way the API runs them (a request's session starts
    empty); the principals are reused, as the API's principal cache does. Returns its id."""
    with sessions() as session:
        application_id = intake.create_application(session, desk.intake, _body(n), now=now).id
    with sessions() as session:  # POST /applications/{id}/screening
        application = get_application(session, desk.county, application_id)
        provider = WatchListProvider(session)
        run_screening(session, desk.county, application, provider=provider, now=now)
        session.commit()
        version = application.version
    for approver in (desk.county, desk.city, desk.province):
        with sessions() as session:  # POST /applications/{id}/approve
            application = actions.approve(
                session, approver, application_id, version=version, opinion="同意。", now=now,
                signer=signer,
            )  # fmt: skip
            version = application.version
    assert application.status == "approved", application.status
    return application_id


def measure_sgss(url: str, count: int, data_dir: Path, synchronous: str) -> dict[str, float]:
    engine = create_db_engine(url, sqlite_synchronous=synchronous)
    factory = create_session_factory(engine)
    now = datetime.now(UTC)
    from server.config import Settings

    signer = DocumentSigner(Settings(database_url=url, data_dir=data_dir))
    with factory() as session:
        bootstrap.init_db(engine, session, now=now, province="330000")
        desk = world(session, now)
    for n in range(WARMUP):
        one_application(factory, desk, signer, n, now)
    counter = Counter(engine)
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(WARMUP, WARMUP + count):
        one_application(factory, desk, signer, n, now + timedelta(microseconds=n))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    counter.close(engine)
    with factory() as session:
        approved = session.scalar(
            select(Application.id).where(Application.status == "approved").limit(1)
        )
        assert approved is not None
    engine.dispose()
    return {
        "per_second": count / elapsed,
        "cpu_ms": cpu * 1000 / count,
        "statements": counter.statements / count,
        "transactions": counter.commits / count,
    }


BPMN_STEPS = ("county_review", "city_review", "province_approval")


def _bpmn() -> bytes:
    nodes = ['<bpmn:startEvent id="start"/>']
    nodes.append('<bpmn:scriptTask id="screening"><bpmn:script>screened = True</bpmn:script>')
    nodes.append("</bpmn:scriptTask>")
    path = ["start", "screening", *BPMN_STEPS, "end"]
    nodes += [f'<bpmn:userTask id="{step}"/>' for step in BPMN_STEPS]
    nodes.append('<bpmn:endEvent id="end"/>')
    flows = [
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
        for i, (a, b) in enumerate(itertools.pairwise(path))
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="sgss">'
        f'<bpmn:process id="licence" isExecutable="true">{"".join(nodes + flows)}</bpmn:process>'
        "</bpmn:definitions>"
    ).encode()


def measure_spiff(url: str, count: int, synchronous: str) -> dict[str, float] | None:
    try:
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState
    except ImportError:
        return None
    parser = BpmnParser()
    parser.add_bpmn_str(_bpmn())
    spec = parser.get_spec("licence")
    serializer = BpmnWorkflowSerializer()
    engine = create_db_engine(url, sqlite_synchronous=synchronous)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_spiff"))
        conn.execute(text("CREATE TABLE bench_spiff (id INTEGER PRIMARY KEY, state TEXT)"))

    def one(n: int) -> None:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO bench_spiff (id, state) VALUES (:id, :s)"),
                {"id": n, "s": serializer.serialize_json(workflow)},
            )
        for _ in BPMN_STEPS:
            with engine.begin() as conn:
                state = conn.execute(
                    text("SELECT state FROM bench_spiff WHERE id = :id"), {"id": n}
                ).scalar_one()
                workflow = serializer.deserialize_json(state)
                task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
                task.data["opinion"] = "同意。"
                task.run()
                workflow.do_engine_steps()
                conn.execute(
                    text("UPDATE bench_spiff SET state = :s WHERE id = :id"),
                    {"id": n, "s": serializer.serialize_json(workflow)},
                )
        assert workflow.is_completed()

    for n in range(WARMUP):
        one(n)
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(WARMUP, WARMUP + count):
        one(n)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    engine.dispose()
    return {"per_second": count / elapsed, "cpu_ms": cpu * 1000 / count}


def _interleaved(
    runs: int, measures: dict[str, Callable[[], dict[str, float] | None]]
) -> dict[str, dict[str, float]]:
    """The median of ``runs`` runs of each measure (each on a fresh database), the measures
    taking turns, so a machine busy with something else slows both sides alike."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            result = measure()
            if result is not None:
                results[name].append(result)
    return {
        name: {k: statistics.median(r[k] for r in found) for k in found[0]}
        for name, found in results.items()
        if found
    }


def _report(label: str, target: float, measured: dict[str, dict[str, float]]) -> None:
    ours = measured.get("sgss")
    if ours is None:
        return
    verdict = "met" if ours["per_second"] >= target else "NOT met"
    print(
        f"[{label}] SGSS: {ours['per_second']:.1f} applications/s "
        f"(target ≥ {target:.0f}: {verdict}); per application "
        f"{ours['cpu_ms']:.2f} ms of this process's CPU, "
        f"{ours['statements']:.0f} SQL statements in {ours['transactions']:.0f} transactions"
    )
    theirs = measured.get("spiff")
    if theirs is None:
        print(f"[{label}] SpiffWorkflow: not installed (pip install SpiffWorkflow)")
    else:
        print(
            f"[{label}] SpiffWorkflow (state saved per step): {theirs['per_second']:.1f} /s, "
            f"{theirs['cpu_ms']:.2f} ms CPU per application; SGSS at "
            f"{ours['per_second'] / theirs['per_second']:.2f} × its rate (a machine-independent "
            "figure: the targets assume a machine where it runs at about 225 / 118 per second)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3, help="fresh databases per engine")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--sqlite-synchronous",
        choices=("full", "normal", "both"),
        default="both",
        help="SQLite commit durability to measure (SGSS_SQLITE_SYNCHRONOUS; docs/DURABILITY.md)",
    )
    args = parser.parse_args()
    heap.settle()  # as ``serve`` and ``worker run`` do, for both sides alike
    kinds = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    modes = ("full", "normal") if args.sqlite_synchronous == "both" else (args.sqlite_synchronous,)
    setups = [("sqlite", m) for m in modes if "sqlite" in kinds]
    setups += [("postgresql", "full")] if "postgresql" in kinds else []
    for kind, synchronous in setups:

        def sgss(kind: str = kind, synchronous: str = synchronous) -> dict[str, float] | None:
            with scratch_database(kind) as url, tempfile.TemporaryDirectory() as data:
                if url is None:
                    return None
                return measure_sgss(url, args.applications, Path(data), synchronous)

        def spiff(kind: str = kind, synchronous: str = synchronous) -> dict[str, float] | None:
            with scratch_database(kind) as url:
                return None if url is None else measure_spiff(url, args.applications, synchronous)

        label = f"{kind}, synchronous={synchronous}" if kind == "sqlite" else kind
        measured = _interleaved(args.runs, {"sgss": sgss, "spiff": spiff})
        _report(label, TARGETS[kind], measured)


if __name__ == "__main__":
    main()
