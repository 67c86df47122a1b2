"""内外网数据同步 end to end, on SQLite and PostgreSQL: the portal stand-in files an application,
the real cycle carries it in over a real transport (the file ferry, then the HTTP gateway with
a 503 and a slow answer on the way), the county clerk finds it in the inbox, sends it back with
internal opinions on the way and an external reason at the end, and the portal hears the
accepted, progress and decided records with the reason and corrections and nothing internal.
A corrupted copy of a bundle lands in quarantine with its reason, on disk and in the database.
"""

import base64
import threading
from pathlib import Path

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, ApprovalLogEntry
from server.services.sync.status import sync_status
from server.services.sync.transports.files import FolderTransport
from server.services.sync.transports.http import GatewayTransport
from shared.sync.keys import Node, PeerKey, keys_by_id
from shared.sync.refusals import Refusal
from shared.sync.verify import verify_bundle
from tests.server.approval_world import World, build
from tests.server.sync_peers import (
    Intranet,
    Recording,
    ShiftedClock,
    leaks,
    send_back,
    sync_folders,
)
from tools.sync_portal import Interference, Material, Portal
from tools.sync_portal.__main__ import main as portal_cli
from tools.sync_portal.samples import sample_pdf

INTERNAL = ("县级内部意见：法人曾有投诉记录，请重点核查", "内部退回：请补查股东背景")
REASON = "营业执照已过期，不符合设立条件"
CORRECTIONS = ["提供有效期内的营业执照", "补充法定代表人无犯罪记录证明"]


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


@pytest.fixture
def portal(tmp_path: Path) -> Portal:
    return Portal(tmp_path / "portal")


@pytest.fixture
def intranet(world: World, engine: Engine, settings: Settings, portal: Portal) -> Intranet:
    return Intranet(engine, settings.data_dir, portal, ShiftedClock())


def submit(portal: Portal) -> str:
    scan = sample_pdf("营业执照扫描件")
    return portal.submit_application(materials=[Material("营业执照", "营业执照.pdf", scan)])


def in_the_clerks_inbox(world: World, ref: str, title: str = "营业执照") -> Application:
    world.session.expire_all()
    application = world.session.scalars(
        select(Application).where(Application.external_ref == ref)
    ).one()
    assert application.source == "extranet"
    inbox = world.apis["xh_clerk"].get("/inbox").json()
    assert application.id in [row["id"] for row in inbox["items"]]
    materials = world.apis["xh_clerk"].get(f"/applications/{application.id}/materials").json()
    assert [m["title"] for m in materials] == [title]
    return application


def assert_internal_opinions_recorded(world: World) -> None:
    """What must not cross is there to leak: both texts are internal log entries."""
    world.session.expire_all()
    internal = world.session.scalars(
        select(ApprovalLogEntry.opinion).where(ApprovalLogEntry.visibility == "internal")
    ).all()
    assert set(INTERNAL) <= set(internal)


def assert_portal_heard_the_decision(portal: Portal, ref: str, number: str) -> None:
    heard = [(r.type, r.data) for r in portal.received()]
    types = [t for t, _ in heard]
    assert types[0] == "application.accepted" and heard[0][1] == {
        "external_ref": ref,
        "number": number,
    }
    assert types[-1] == "application.decided"
    assert set(types[1:-1]) == {"application.progress"} and len(types) >= 4
    assert heard[-1][1] == {
        "external_ref": ref,
        "outcome": "rejected",
        "opinion": REASON,
        "corrections": CORRECTIONS,
        "document_number": None,
        "document_sha256": None,
    }
    for _, data in heard[1:-1]:
        assert set(data) == {"external_ref", "status", "step_label"}


def flipped_until_refused(data: bytes, portal_key: str) -> tuple[bytes, Refusal]:
    """A copy with one byte flipped that the codec refuses (a flip in ZIP bookkeeping the
    reader ignores changes nothing, so the next position is tried)."""
    keys = keys_by_id([PeerKey(_raw(portal_key))])
    for position in range(len(data) // 3, len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x41
        verdict = verify_bundle(bytes(damaged), me=Node.intranet, peer=Node.portal, keys=keys)
        if isinstance(verdict, Refusal):
            return bytes(damaged), verdict
    raise AssertionError("no flip refused")


def _raw(text: str) -> bytes:
    return base64.b64decode(text)


def test_file_ferry_round_trip(
    world: World,
    intranet: Intranet,
    portal: Portal,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = sync_folders(tmp_path / "sync")
    transport = Recording(FolderTransport(folder, intranet.clock))
    written: list[bytes] = []

    def ferry() -> None:
        written.extend(path.read_bytes() for path in sorted((folder / "out").glob("*.sgssb")))
        portal.step_files(folder)

    ref = submit(portal)
    ferry()  # the portal's bundle into in/
    (arrived,) = list((folder / "in").glob("*.sgssb"))
    good_copy = arrived.read_bytes()
    summary = intranet.run(transport)
    assert (summary.error, summary.applied, summary.received) == (None, 1, 1)
    assert (folder / "in" / "done" / arrived.name).exists()
    application = in_the_clerks_inbox(world, ref)

    send_back(world, application.id, INTERNAL, REASON, CORRECTIONS)
    assert_internal_opinions_recorded(world)
    assert intranet.run(transport).error is None
    ferry()
    assert_portal_heard_the_decision(portal, ref, application.number)
    ferry()  # the portal's ack; the intranet takes it and has nothing more to send
    summary = intranet.run(transport)
    assert summary.error is None and summary.sent_name is None
    assert intranet.state().acked_upto == intranet.state().last_seq

    # a bundle the ferry had not taken yet is superseded by the next (drop_superseded)
    assert written and all(bundle in transport.sent for bundle in written)
    assert leaks(INTERNAL, transport.sent) == []
    assert leaks([REASON, *CORRECTIONS], written[-1:]) == [REASON, *CORRECTIONS]  # the scan sees

    # the demo's way: a bundle made by the stand-in's command line, dropped into in/
    state = str(portal.state_dir)
    assert portal_cli(["make-application", "--state", state, "--out", str(folder / "in")]) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if x.startswith("external_ref: ")]
    summary = intranet.run(transport)
    assert (summary.error, summary.applied) == (None, 1)
    in_the_clerks_inbox(world, line.removeprefix("external_ref: "), title="申请书")

    # a corrupted copy of the portal's first bundle: quarantined on disk and in the database
    damaged, refusal = flipped_until_refused(good_copy, portal.public_key)
    (folder / "in" / "copy-of-first.sgssb").write_bytes(damaged)
    summary = intranet.run(transport)
    assert (summary.quarantined, summary.applied) == (1, 0)
    quarantined = folder / "in" / "quarantine" / "copy-of-first.sgssb"
    assert quarantined.read_bytes() == damaged
    reason_file = quarantined.with_name("copy-of-first.sgssb.reason.txt")
    assert reason_file.read_text("utf-8") == refusal.message
    (row,) = intranet.bundles("quarantined")
    assert (row.name, row.reason_code, row.reason) == (
        "copy-of-first.sgssb",
        refusal.reason.value,
        refusal.message,
    )
    with intranet.sessions() as session:
        assert sync_status(session).quarantined == 1


def test_http_gateway_round_trip_through_a_503_and_a_slow_answer(
    world: World, intranet: Intranet, portal: Portal
) -> None:
    faults: dict[tuple[str, int], Interference] = {
        ("GET", 1): Interference(status=503),
        ("GET", 2): Interference(delay=0.6),  # past the client's timeout: tried again
        ("POST", 1): Interference(status=502),
    }
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def interfere(method: str, path: str) -> Interference | None:
        with lock:
            seen[method] = seen.get(method, 0) + 1
            return faults.get((method, seen[method]))

    url, stop = portal.serve_http(interfere=interfere)
    posted: list[bytes] = []
    session = requests.Session()
    session.hooks["response"].append(
        lambda response, *args, **kwargs: (
            posted.append(response.request.body)
            if response.request.method == "POST" and response.ok
            else None
        )
    )
    waits: list[float] = []
    transport = Recording(
        GatewayTransport(
            url, timeout=0.3, attempts=4, session=session, sleep=waits.append, jitter=lambda: 0
        )
    )
    try:
        ref = submit(portal)
        summary = intranet.run(transport)
        assert (summary.error, summary.applied) == (None, 1)
        assert len(waits) >= 2  # the 503 and the timeout were retried
        application = in_the_clerks_inbox(world, ref)

        send_back(world, application.id, INTERNAL, REASON, CORRECTIONS)
        assert_internal_opinions_recorded(world)
        summary = intranet.run(transport)  # the 502 on the POST, then delivered
        assert summary.error is None and summary.sent_records >= 3
        assert_portal_heard_the_decision(portal, ref, application.number)
        # fetches the portal's ack-only bundle, whose answer is lost here (past the client's
        # timeout, after the portal has sent it): the portal owes nothing more, and the ack
        # comes when the next cycle resends the records still unacknowledged
        with lock:
            faults[("GET", seen["GET"] + 1)] = Interference(delay=0.6)
        for _ in range(3):
            summary = intranet.run(transport)
            assert summary.error is None
            if intranet.state().acked_upto == intranet.state().last_seq:
                break
        assert intranet.state().acked_upto == intranet.state().last_seq
    finally:
        stop()
    assert seen["POST"] >= 2 and posted == transport.sent
    assert leaks(INTERNAL, posted) == []
    assert portal.quarantined() == []
