"""内外网数据同步 over the API: status, the bundles and their detail, discard and re-check, the
peer's keys, 立即同步 and its conflict, and who may do which (both engines)."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.db.models import AuditEntry
from server.db.sync_models import SyncInboundBundle, SyncOutboxRecord, SyncState
from server.services.audit import CLI_ACTOR
from server.services.sync import keys as sync_keys
from server.services.sync import records_in, transports
from tests.server.conftest import Api
from tests.server.sync_fakes import MemoryTransport, Portal
from tests.server.world import make_user, root_id

PEER_KEY = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="  # RFC 8032 test 1's public key
PEER_KEY_ID = "21fe31dfa154a261"


def _bundle(name: str, state: str, first: int | None, last: int | None, **kw: Any) -> Any:
    return SyncInboundBundle(
        name=name,
        sha256="a" * 64,
        size=1234,
        bundle_id="0b7e4c2a-36d1-4c2a-9f0e-4b1f7a6f1a01" if first else None,
        first_seq=first,
        last_seq=last,
        state=state,
        content=kw.pop("content", b"PK-bytes"),
        **kw,
    )


@pytest.fixture
def seeded(session: Session, clock: FrozenClock, initialised: Session) -> dict[str, int]:
    """Our stream numbered to 10, acked to 7, one record still unnumbered; the portal's applied
    to 4, a bundle from 8 held (gap 5–7), one quarantined, one applied."""
    now = clock.now()
    session.add(
        SyncState(
            peer="portal",
            last_seq=10,
            acked_upto=7,
            applied_upto=4,
            last_sent_name="intranet-portal-000000000008-000000000010.sgssb",
            last_sent_at=now,
            last_received_name="portal-intranet-000000000008-000000000009.sgssb",
            last_received_at=now,
        )
    )
    for seq in (6, 7, 8, 9, 10, None):
        session.add(
            SyncOutboxRecord(
                record_id=f"00000000-0000-4000-8000-{seq or 0:012d}",
                seq=seq,
                type="application.progress",
                at=now,
                data={},
                files=[],
            )
        )
    rows = {
        "applied": _bundle("portal-intranet-1-4.sgssb", "applied", 1, 4, content=None),
        "held": _bundle("portal-intranet-8-9.sgssb", "held", 8, 9),
        "quarantined": _bundle(
            "portal-intranet-5-7.sgssb",
            "quarantined",
            None,
            None,
            reason_code="bad_signature",
            reason="签名无效，清单可能被篡改",
        ),
    }
    for i, row in enumerate(rows.values()):
        row.received_at = now - timedelta(minutes=10 - i)
        session.add(row)
    session.commit()
    return {key: row.id for key, row in rows.items()}


def test_status_states_cursors_lag_gap_and_counts(admin: Api, seeded: dict[str, int]) -> None:
    body = admin.get("/sync/status").json()
    assert body["configured"] is False and body["transport_label"] == "未配置"
    assert body["peer"] == "portal" and body["peer_label"] == "外网门户"
    assert (body["last_seq"], body["acked_upto"], body["ack_lag"]) == (10, 7, 3)
    assert body["waiting"] == 4  # 8, 9, 10 and the one not yet numbered
    assert body["applied_upto"] == 4
    assert body["gap"] == {"missing_from": 5, "missing_to": 7}
    assert (body["held"], body["quarantined"]) == (1, 1)
    assert body["last_received_name"] == "portal-intranet-000000000008-000000000009.sgssb"
    assert body["last_sent_name"].startswith("intranet-portal-")


def test_status_of_a_fresh_database(admin: Api) -> None:
    body = admin.get("/sync/status").json()
    assert (body["last_seq"], body["ack_lag"], body["waiting"], body["gap"]) == (0, 0, 0, None)
    assert body["peer_keys"] == []


def test_bundles_listed_by_state_paged_and_sorted(admin: Api, seeded: dict[str, int]) -> None:
    only = admin.get("/sync/bundles", params={"state": "quarantined"}).json()
    assert only["total"] == 1
    (row,) = only["items"]
    assert row["id"] == seeded["quarantined"]
    assert row["reason"] == "签名无效，清单可能被篡改" and row["state_label"] == "已隔离"
    assert "content" not in row
    both = admin.get("/sync/bundles", params=[("state", "held"), ("state", "quarantined")])
    assert both.json()["total"] == 2
    everything = admin.get("/sync/bundles", params={"page_size": 2}).json()
    assert everything["total"] == 3 and len(everything["items"]) == 2
    newest_first = [r["id"] for r in everything["items"]]
    assert newest_first == [seeded["quarantined"], seeded["held"]]
    by_name = admin.get("/sync/bundles", params={"sort": "name"}).json()["items"]
    assert [r["name"] for r in by_name] == sorted(r["name"] for r in by_name)
    admin.get("/sync/bundles", 422, params={"state": "lost"})


def test_bundle_detail_is_a_summary_with_what_may_be_done(
    admin: Api, seeded: dict[str, int]
) -> None:
    held = admin.get(f"/sync/bundles/{seeded['held']}").json()
    assert (held["first_seq"], held["last_seq"], held["records"], held["size"]) == (8, 9, 2, 1234)
    assert held["content_kept"] is True and "content" not in held
    assert held["recheck"]["allowed"] is True
    assert held["discard"] == {
        "allowed": False,
        "reason_code": "SYNC_BUNDLE_NOT_QUARANTINED",
        "reason": "只有被隔离的同步包才能丢弃",
    }
    applied = admin.get(f"/sync/bundles/{seeded['applied']}").json()
    assert applied["recheck"]["reason_code"] == "SYNC_BUNDLE_NOT_RECHECKABLE"
    quarantined = admin.get(f"/sync/bundles/{seeded['quarantined']}").json()
    assert quarantined["discard"]["allowed"] and quarantined["records"] is None
    missing = admin.get("/sync/bundles/999999", 404).json()
    assert missing["code"] == "SYNC_BUNDLE_NOT_FOUND"


def test_discard_only_a_quarantined_bundle(
    admin: Api, seeded: dict[str, int], session: Session
) -> None:
    refused = admin.post(f"/sync/bundles/{seeded['held']}/discard", 409).json()
    assert refused["code"] == "SYNC_BUNDLE_NOT_QUARANTINED"
    assert refused["message"] == "只有被隔离的同步包才能丢弃"
    done = admin.post(f"/sync/bundles/{seeded['quarantined']}/discard").json()
    assert done["state"] == "discarded" and "root" in done["settled_by"]
    assert done["reason"] == "签名无效，清单可能被篡改"  # kept with the row
    assert done["content_kept"] is False
    again = admin.post(f"/sync/bundles/{seeded['quarantined']}/discard", 409).json()
    assert again["code"] == "SYNC_BUNDLE_NOT_QUARANTINED"
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "sync_bundle")
    ).all()
    assert actions == ["sync.bundle_discard"]


def test_recheck_after_a_fix_and_refused_when_nothing_to_check(
    admin: Api, seeded: dict[str, int]
) -> None:
    refused = admin.post(f"/sync/bundles/{seeded['applied']}/recheck", 409).json()
    assert refused["code"] == "SYNC_BUNDLE_NOT_RECHECKABLE"
    # the stored bytes are no bundle at all: still quarantined, with today's reason
    after = admin.post(f"/sync/bundles/{seeded['quarantined']}/recheck").json()
    assert after["state"] == "quarantined"
    assert after["reason_code"] == "not_zip"


def test_peer_keys_added_listed_and_retired(admin: Api, clock: FrozenClock) -> None:
    bad = admin.post("/sync/peer-keys", 422, json={"public_key": "not base64"}).json()
    assert bad["code"] == "SYNC_PEER_KEY_INVALID"
    added = admin.post("/sync/peer-keys", 201, json={"public_key": f" {PEER_KEY}\n"}).json()
    assert added["key_id"] == PEER_KEY_ID and added["retired_at"] is None
    admin.post("/sync/peer-keys", 200, json={"public_key": PEER_KEY})  # known: unchanged
    (listed,) = admin.get("/sync/peer-keys").json()
    assert listed["public_key"] == PEER_KEY
    retired = admin.post(f"/sync/peer-keys/{PEER_KEY_ID}/retire").json()
    assert retired["retired_at"] is not None and retired["retired_by"]
    assert admin.get("/sync/status").json()["peer_keys"][0]["retired_at"] is not None
    admin.post("/sync/peer-keys/0000000000000000/retire", 404)
    admin.post("/sync/peer-keys/NOT-A-KEY-ID/retire", 422)


def test_run_needs_a_configured_transport(admin: Api) -> None:
    refused = admin.post("/sync/run", 409).json()
    assert refused["code"] == "SYNC_NOT_CONFIGURED"


@pytest.fixture
def ferry(app: Any, admin: Api, session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Sync configured, this node's key made, the portal's key registered through the API, and
    the transport an in-memory one (the cycle itself is the real one)."""
    context = app.state.context
    context.settings = context.settings.model_copy(
        update={"sync_transport": "files", "sync_dir": context.settings.data_dir / "ferry"}
    )
    sync_keys.init_node_key(
        session, context.settings.data_dir, now=context.clock.now(), actor=CLI_ACTOR
    )
    session.commit()
    portal = Portal()
    admin.post("/sync/peer-keys", 201, json={"public_key": portal.public_text})
    fake = MemoryTransport()
    monkeypatch.setattr(transports, "from_settings", lambda _settings: fake)
    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": lambda incoming: None})
    return portal, fake


def test_run_once_from_the_desk(admin: Api, ferry: Any, session: Session) -> None:
    portal, fake = ferry
    for _ in range(3):
        portal.add()
    fake.put(*portal.bundle(1, 3))
    result = admin.post("/sync/run").json()
    assert result["line"].startswith("同步完成：") and "应用记录 3 条" in result["line"]
    assert result["counts"]["applied"] == 3 and result["counts"]["received"] == 1
    status = admin.get("/sync/status").json()
    assert status["applied_upto"] == 3 and status["own_key_id"]
    summaries = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "sync.run"))
    assert list(summaries) == [{"summary": result["line"]}]


def test_a_cycle_that_cannot_finish_says_why(admin: Api, ferry: Any) -> None:
    _, fake = ferry
    fake.fail_arrivals = True
    failed = admin.post("/sync/run", 502).json()
    assert failed["code"] == "SYNC_CYCLE_FAILED"
    assert failed["message"].startswith("同步未完成：测试：无法读取收件目录")
    assert "无法读取收件目录" in admin.get("/sync/status").json()["last_cycle_error"]


def test_a_second_run_while_one_runs_is_told_at_once(
    admin: Api, ferry: Any, seeded: dict[str, int]
) -> None:
    """The first cycle is paused inside (the transport waits when asked for arrivals), so
    the second press certainly arrives while it runs."""
    _, fake = ferry
    inside, release = threading.Event(), threading.Event()

    def pause() -> None:
        inside.set()
        assert release.wait(30)

    fake.on_arrivals = pause
    answers: list[Any] = []
    first = threading.Thread(target=lambda: answers.append(admin.post("/sync/run", None)))
    first.start()
    try:
        assert inside.wait(30)
        second = admin.post("/sync/run", 409).json()
        assert second["code"] == "SYNC_RUNNING" and "正在同步" in second["message"]
        # a re-check would apply records under the cycle's feet: it waits its turn too
        quarantined = seeded["quarantined"]
        recheck = admin.post(f"/sync/bundles/{quarantined}/recheck", 409).json()
        assert recheck["code"] == "SYNC_RUNNING"
    finally:
        release.set()
        first.join(30)
    (answer,) = answers
    assert answer.status_code == 200 and answer.json()["line"].startswith("同步完成：")
    fake.on_arrivals = None
    admin.post("/sync/run", 200)  # free again once the first is over


def test_who_may_see_and_steer_sync(admin: Api, client: TestClient, seeded: dict[str, int]) -> None:
    root = root_id(admin)

    def role(name: str, permissions: list[str], scope: str) -> int:
        body: dict[str, Any] = {"name": name, "org_id": root, "permissions": permissions}
        body["data_scope"] = {"kind": scope}
        return int(admin.post("/roles", 201, json=body).json()["id"])

    _, clerk = make_user(admin, client, "clerk", root, role("科员", ["users:view"], "all"))
    _, viewer = make_user(admin, client, "viewer", root, role("查看", ["sync:view"], "all"))
    _, narrow = make_user(
        admin, client, "narrow", root, role("本级", ["sync:view", "sync:run"], "own_org")
    )
    quarantined = seeded["quarantined"]
    for path in ("/sync/status", "/sync/bundles", f"/sync/bundles/{quarantined}"):
        assert clerk.get(path, 403).json()["code"] == "PERMISSION_DENIED"
        viewer.get(path, 200)
        assert narrow.get(path, 403).json()["code"] == "SYNC_SCOPE_REQUIRED"
    for path in (
        "/sync/run",
        f"/sync/bundles/{quarantined}/recheck",
        f"/sync/bundles/{quarantined}/discard",
        f"/sync/peer-keys/{PEER_KEY_ID}/retire",
    ):
        assert viewer.post(path, 403).json()["code"] == "PERMISSION_DENIED"
    assert viewer.post("/sync/peer-keys", 403, json={"public_key": PEER_KEY}).status_code == 403
    assert narrow.post("/sync/run", 403).json()["code"] == "SYNC_SCOPE_REQUIRED"
    # the built-in administrator holds every sync permission
    me = admin.get("/me").json()
    assert {"sync:view", "sync:run", "sync:manage"} <= set(me["permissions"])


def test_the_review_shows_where_an_application_came_from(
    initialised: Session, client: TestClient, settings: Any, clock: FrozenClock
) -> None:
    """来源 and 外网申请编号 in the application's detail (what the review shows)."""
    from server.db.approval_models import Application
    from shared.enums import BusinessType
    from tests.server.approval_world import application_body, build

    world = build(initialised, client, settings, clock.now())
    intake = world.apis["intake"]
    body = {**application_body(BusinessType.legal_rep_change), "external_ref": "WW-2026-000123"}
    created = intake.post("/applications", 201, json=body).json()
    plain = intake.post(
        "/applications", 201, json=application_body(BusinessType.legal_rep_change)
    ).json()
    # what the sync applier records for one filed on the portal
    row = initialised.get(Application, created["id"])
    assert row is not None
    row.source = "extranet"
    initialised.commit()
    synced = intake.get(f"/applications/{created['id']}").json()
    assert (synced["source"], synced["source_label"]) == ("extranet", "外网门户")
    assert synced["external_ref"] == "WW-2026-000123"
    local = intake.get(f"/applications/{plain['id']}").json()
    assert (local["source_label"], local["external_ref"]) == ("内网受理", None)


def test_a_stuck_record_is_shown_and_the_administrator_rejects_it(
    admin: Api, ferry: Any, session: Session, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal, fake = ferry

    def crash(incoming: Any) -> None:
        raise RuntimeError("INSERT INTO people VALUES ('张三')")

    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": lambda _i: None, "t.crash": crash})
    portal.add("t.crash")
    portal.add()
    fake.put(*portal.bundle(1, 2))
    failed = admin.post("/sync/run", 502).json()
    assert "外网记录（序号 1，类型 t.crash）应用失败" in failed["message"]
    assert "张三" not in failed["message"]
    status = admin.get("/sync/status").json()
    assert status["stuck"] == {"seq": 1, "type": "t.crash", "failures": 1}
    assert "INSERT" not in status["last_cycle_error"]

    root = root_id(admin)
    body: dict[str, Any] = {"name": "运行", "org_id": root, "permissions": ["sync:run"]}
    body["data_scope"] = {"kind": "all"}
    runner_role = int(admin.post("/roles", 201, json=body).json()["id"])
    _, runner = make_user(admin, client, "runner", root, runner_role)
    reason = {"reason": "内容无法识别"}
    assert runner.post("/sync/stuck/1/reject", 403, json=reason).json()["code"] == (
        "PERMISSION_DENIED"
    )
    assert admin.post("/sync/stuck/1/reject", 422, json={"reason": ""}).status_code == 422
    wrong = admin.post("/sync/stuck/2/reject", 409, json=reason).json()
    assert wrong["code"] == "SYNC_RECORD_NOT_STUCK"
    after = admin.post("/sync/stuck/1/reject", json=reason).json()
    assert after["stuck"] is None and after["applied_upto"] == 1
    assert admin.post("/sync/stuck/1/reject", 409, json=reason).json()["code"] == (
        "SYNC_RECORD_NOT_STUCK"
    )
    logged = session.scalars(
        select(AuditEntry.after).where(AuditEntry.action == "sync.record_reject")
    ).one()
    assert logged is not None and logged["reason"] == "内容无法识别"
    assert admin.post("/sync/run").json()["counts"]["applied"] == 1
    assert admin.get("/sync/status").json()["applied_upto"] == 2
