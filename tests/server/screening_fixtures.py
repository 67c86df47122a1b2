"""Test helpers for screening: applications made straight through the ORM, valid ID numbers,
and a real local HTTP server standing in for the police data service."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.approval_models import Application, ApplicationPerson, WorkflowDefinition
from server.db.models import Org, User
from server.services.authz import Principal, principal_for
from shared.approvals import ApplicationStatus, PersonRole
from shared.idnumber import check_char
from tests.server.conftest import ADMIN


def valid_id(region: str = "330102", birth: str = "19900101", seq: str = "123") -> str:
    first17 = region + birth + seq
    return first17 + check_char(first17)


def id_with_x() -> str:
    """A valid ID number whose check character is ``X``."""
    for seq in range(1000):
        candidate = valid_id(seq=f"{seq:03d}")
        if candidate.endswith("X"):
            return candidate
    raise AssertionError("no X check character found")


ZHANG = valid_id(seq="011")
LI = valid_id(seq="023")
WANG = id_with_x()


def root_org(session: Session) -> Org:
    return session.scalars(select(Org).where(Org.parent_id.is_(None))).one()


def admin_principal(session: Session) -> Principal:
    user = session.scalars(select(User).where(User.username == ADMIN)).one()
    return principal_for(session, user)


def definition(session: Session, now: datetime) -> WorkflowDefinition:
    found = session.scalar(
        select(WorkflowDefinition).where(
            WorkflowDefinition.business_type == "company_licence", WorkflowDefinition.version == 1
        )
    )
    if found is not None:
        return found
    created = WorkflowDefinition(
        business_type="company_licence",
        version=1,
        name="保安服务公司设立许可",
        content={"steps": []},
        source_name="test.yaml",
        sha256="0" * 64,
        published_at=now,
        published_by="test",
    )
    session.add(created)
    session.flush()
    return created


_counter = iter(range(1, 1_000_000))


def make_application(
    session: Session,
    org_id: int,
    now: datetime,
    persons: list[tuple[PersonRole, str, str]] | None = None,
    *,
    status: ApplicationStatus = ApplicationStatus.in_review,
) -> Application:
    """An application in review with its persons (role, name, ID number), committed."""
    persons = persons or [
        (PersonRole.legal_rep, "张三", ZHANG),
        (PersonRole.principal, "李四", LI),
    ]
    application = Application(
        number=f"SQ2026{next(_counter):06d}",
        business_type="company_licence",
        applicant_kind="unit",
        applicant_name="杭州平安保安服务有限公司",
        applicant_code="91330100MA2XXXXX1",
        region_code="330102",
        org_id=org_id,
        definition_id=definition(session, now).id,
        status=status.value,
        form={},
        submitted_at=now,
        round_started_at=now,
        created_at=now,
        updated_at=now,
    )
    application.persons = [
        ApplicationPerson(round=1, role=role.value, name=name, id_number=id_number)
        for role, name, id_number in persons
    ]
    session.add(application)
    session.commit()
    return application


class FakeService:
    """What the local police data service does: ``mode`` picks the behaviour, ``hits`` maps ID
    numbers to the categories found, ``requests`` records every body received."""

    def __init__(self) -> None:
        self.mode = "answer"
        self.hits: dict[str, set[str]] = {}
        self.omit: set[tuple[str, str]] = set()
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []

    def respond(self, body: dict[str, Any]) -> tuple[int, bytes]:
        self.requests.append(body)
        if self.mode == "sleep":
            time.sleep(self.delay)
        if self.mode == "status500":
            return 500, b'{"error": "internal"}'
        if self.mode == "malformed":
            return 200, b'{"results": [ oops'
        if self.mode == "wrong_shape":
            return 200, b'{"results": "none"}'
        results = [
            {
                "id_number": person["id_number"],
                "category": category,
                "outcome": "hit"
                if category in self.hits.get(person["id_number"], set())
                else "clear",
                "detail": "在逃人员库有记录"
                if category in self.hits.get(person["id_number"], set())
                else None,
            }
            for person in body["persons"]
            for category in body["categories"]
            if (person["id_number"], category) not in self.omit
        ]
        return 200, json.dumps({"results": results}, ensure_ascii=False).encode()


def _handler(service: FakeService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            status, payload = service.respond(json.loads(self.rfile.read(length)))
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout case)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_service() -> Iterator[tuple[FakeService, str]]:
    """A real HTTP server on 127.0.0.1 (any free port) in a thread; yields it and its URL."""
    service = FakeService()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(service))
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield service, f"http://{host!s}:{port}/screening"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
