"""保安员证 on both engines: issuing, the list and history, the lifecycle, verification, the
public lookup, the status list, keys and numbering."""

import os
import threading
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.certificate_models import Certificate
from server.db.models import AuditEntry, Org
from server.db.session import create_session_factory
from server.services import audit
from server.services.certificates import Holder, issue_certificate
from server.services.certificates import keys as signing_keys
from server.services.certificates.issue import make_card
from server.services.certificates.keys import CertificateKeys
from server.services.errors import AppError
from shared.certificate_payload import PREFIX, b45encode, body, decode
from shared.certificate_status_list import MIN_SIZE, StatusResult
from shared.certificate_status_list import read as read_status_list
from shared.certificate_verification import load_public_keys
from shared.certificates import Gender
from shared.errors import ErrorCode
from tests.server.conftest import Api
from tests.server.world import _valid_id, make_user, root_id

ID_A = _valid_id("330102", "19900101", "123")


def _issue(
    app: FastAPI, session: Session, clock: FrozenClock, *, name: str = "张三", **kw: Any
) -> Certificate:
    org_id = kw.pop("org_id", None) or session.scalar(select(Certificate.org_id).limit(1))
    if org_id is None:
        org_id = session.scalar(select(Org.id).where(Org.parent_id.is_(None)))
    card = issue_certificate(
        session,
        app.state.context.certificate_keys,
        now=clock.now(),
        actor=audit.CLI_ACTOR,
        holder=Holder(
            name=name,
            gender=Gender.male,
            birth_date=date(1990, 1, 1),
            id_number=kw.pop("id_number", ID_A),
            photo_ref=kw.pop("photo_ref", "sha256:abc"),
        ),
        issuing_org_id=org_id,
        application_id=None,
        **kw,
    )
    session.commit()
    return card


def test_issue_list_and_history(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock
) -> None:
    card = _issue(app, session, clock)
    assert card.number == "浙202600000001"
    assert card.issuing_authority == "浙江省公安厅"
    assert 0 <= card.status_index < MIN_SIZE
    second = _issue(app, session, clock, name="李四", id_number=_valid_id("330106"), photo_ref=None)
    assert second.number == "浙202600000002"

    page = admin.get("/certificates").json()
    assert page["total"] == 2
    assert [c["number"] for c in page["items"]] == ["浙202600000002", "浙202600000001"]
    assert admin.get("/certificates", params={"has_photo": False}).json()["total"] == 1
    assert admin.get("/certificates", params={"q": "张"}).json()["items"][0]["id"] == card.id
    assert admin.get("/certificates", params={"region_code": "330000"}).json()["total"] == 2
    assert admin.get("/certificates", params={"region_code": "110000"}).json()["total"] == 0
    assert admin.get("/certificates", params={"issued_from": "2026-03-03"}).json()["total"] == 0
    assert admin.get("/certificates", params={"status": "revoked"}).json()["total"] == 0
    one = admin.get(f"/certificates/{card.id}").json()
    assert one["id_number"] == ID_A  # the administrator may see it in full
    assert one["status_label"] == "有效" and one["payload"].startswith(PREFIX)
    history = admin.get(f"/certificates/{card.id}/history").json()
    assert [e["kind"] for e in history["events"]] == ["issue"]
    admin.get("/certificates/999999", 404)


def test_a_clerk_without_the_sensitive_right_sees_masked_numbers_and_only_their_scope(
    app: FastAPI, admin: Api, client: TestClient, session: Session, clock: FrozenClock
) -> None:
    card = _issue(app, session, clock)
    root = root_id(admin)
    role = admin.post(
        "/roles",
        201,
        json={
            "name": "证件",
            "org_id": root,
            "permissions": ["certificates:view"],
            "data_scope": {"kind": "all"},
        },
    ).json()
    _, clerk = make_user(admin, client, "certclerk", root, role["id"])
    assert clerk.get(f"/certificates/{card.id}").json()["id_number"] == "330102********" + ID_A[-4:]
    city = admin.post(
        "/orgs",
        201,
        json={
            "name": "杭州市公安局",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "330100",
        },
    ).json()
    local = admin.post(
        "/roles",
        201,
        json={
            "name": "市证件",
            "org_id": city["id"],
            "permissions": ["certificates:view", "certificates:revoke"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    _, outsider = make_user(admin, client, "cityclerk", city["id"], local["id"])
    outsider.get(f"/certificates/{card.id}", 404)
    outsider.post(f"/certificates/{card.id}/revoke", 404, json=_revocation(card.version))
    assert outsider.get("/certificates").json()["total"] == 0


def _revocation(version: int) -> dict[str, Any]:
    return {"version": version, "reason": "违法犯罪", "basis": "《保安服务管理条例》第四十三条"}


def _verify(client: TestClient, payload: str) -> dict[str, Any]:
    response = client.post("/api/v1/certificates/verify", json={"payload": payload})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_lifecycle_reissue_correct_revoke_cancel(
    app: FastAPI, admin: Api, client: TestClient, session: Session, clock: FrozenClock
) -> None:
    first = _issue(app, session, clock)
    assert _verify(client, first.payload)["valid"] is True

    # 补发: same number, next edition; the old card's QR now reports 已作废
    clock.advance(minutes=10)
    admin.post(f"/certificates/{first.id}/reissue", 409, json={"version": 99, "reason": "lost"})
    second = admin.post(
        f"/certificates/{first.id}/reissue",
        201,
        json={"version": 1, "reason": "lost", "note": "地铁遗失"},
    ).json()
    assert (second["number"], second["edition"]) == (first.number, 2)
    assert second["payload"] != first.payload
    old = _verify(client, first.payload)
    assert (old["valid"], old["integrity"]["result"], old["status"]["result"]) == (
        False,
        "intact",
        "replaced",
    )
    assert old["status"]["label"] == "已作废"
    assert _verify(client, second["payload"])["valid"] is True
    again = admin.post(
        f"/certificates/{first.id}/reissue", 409, json={"version": 2, "reason": "lost"}
    )
    assert again.json()["code"] == ErrorCode.CERTIFICATE_NOT_ACTIVE

    # 更正换发: corrected particulars on a new card
    admin.post(
        f"/certificates/{second['id']}/correct",
        422,
        json={"version": second["version"], "reason": "无变化", "holder_name": "张三"},
    )
    third = admin.post(
        f"/certificates/{second['id']}/correct",
        201,
        json={"version": second["version"], "reason": "姓名录入错误", "holder_name": "张叁"},
    ).json()
    assert (third["holder_name"], third["edition"]) == ("张叁", 3)
    assert decode(third["payload"]).claims.name == "张叁"

    # 吊销, version-checked, with reason and basis; verification says revoked
    admin.post(f"/certificates/{third['id']}/revoke", 409, json=_revocation(third["version"] + 1))
    revoked = admin.post(
        f"/certificates/{third['id']}/revoke", 200, json=_revocation(third["version"])
    ).json()
    assert revoked["status"] == "revoked"
    result = _verify(client, third["payload"])
    assert (result["integrity"]["result"], result["key"]["result"]) == ("intact", "valid")
    assert (result["status"]["result"], result["valid"]) == ("revoked", False)
    assert result["summary"] == "证书已吊销"
    admin.post(
        f"/certificates/{third['id']}/cancel",
        409,
        json={"version": revoked["version"], "reason": "death"},
    )

    history = admin.get(f"/certificates/{first.id}/history").json()
    assert [(e["kind"], e["edition"]) for e in history["events"]] == [
        ("issue", 1),
        ("reissue", 1),
        ("correct", 2),
        ("revoke", 3),
    ]
    assert history["events"][2]["details"] == {
        "before": {"holder_name": "张三"},
        "after": {"holder_name": "张叁"},
    }
    assert history["events"][3]["basis"] == "《保安服务管理条例》第四十三条"
    assert [e["status"] for e in history["editions"]] == ["replaced", "replaced", "revoked"]
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "certificate")
    ).all()
    assert actions == [
        "certificate.issue",
        "certificate.reissue",
        "certificate.correct",
        "certificate.revoke",
    ]

    other = _issue(app, session, clock, name="王五", id_number=_valid_id("330106"))
    cancelled = admin.post(
        f"/certificates/{other.id}/cancel", 200, json={"version": 1, "reason": "holder_request"}
    ).json()
    assert cancelled["status_label"] == "已注销"
    assert _verify(client, other.payload)["status"]["result"] == "cancelled"


def test_verify_tells_tampered_unknown_key_and_truncated_apart(
    app: FastAPI, initialised: Session, client: TestClient, clock: FrozenClock, tmp_path: Any
) -> None:
    card = _issue(app, initialised, clock)
    decoded = decode(card.payload)
    forged = PREFIX + b45encode(body(replace(decoded.claims, name="李四")) + decoded.signature)
    assert _verify(client, forged)["integrity"]["result"] == "tampered"
    assert _verify(client, forged)["certificate"] is None
    assert _verify(client, card.payload[:-7])["integrity"]["result"] == "truncated"
    assert _verify(client, "not a certificate")["integrity"]["result"] == "malformed"
    # a card signed by a key this server never published
    stranger = CertificateKeys(tmp_path / "elsewhere")
    with create_session_factory(app.state.engine)() as other:  # rolled back below
        org = other.scalar(select(Org).where(Org.parent_id.is_(None)))
        foreign = signing_keys.rotate(other, stranger, now=clock.now(), actor=audit.CLI_ACTOR)
        made = make_card(
            other,
            stranger,
            now=clock.now(),
            number="浙209900000001",
            edition=1,
            holder=Holder("赵六", Gender.female, date(1991, 2, 3), _valid_id("330106")),
            org=org,  # type: ignore[arg-type]
            issuing_authority="某地",
            application_id=None,
            expires_on=None,
            supersedes_id=None,
        )
        assert made.key_id == foreign.key_id
        payload = made.payload
        other.rollback()
    result = _verify(client, payload)
    assert (result["integrity"]["result"], result["key"]["result"], result["status"]["result"]) == (
        "unknown_key",
        "unknown",
        "unknown",
    )


def test_rotation_keeps_old_cards_valid_and_the_key_file_private(
    app: FastAPI, admin: Api, client: TestClient, session: Session, clock: FrozenClock
) -> None:
    keys: CertificateKeys = app.state.context.certificate_keys
    before = _issue(app, session, clock)
    if os.name == "posix":
        assert (keys.path(before.key_id).stat().st_mode & 0o777) == 0o600
        assert (keys.folder.stat().st_mode & 0o777) == 0o700
    clock.advance(minutes=10)
    new = signing_keys.rotate(session, keys, now=clock.now(), actor=audit.CLI_ACTOR)
    session.commit()
    after = _issue(app, session, clock, name="李四", id_number=_valid_id("330106"))
    assert after.key_id == new.key_id != before.key_id
    assert _verify(client, before.payload)["valid"] is True
    assert _verify(client, after.payload)["valid"] is True
    published = admin.get("/certificates/public-keys").json()
    assert [k["key_id"] for k in published["keys"]] == [before.key_id, new.key_id]
    assert published["keys"][0]["valid_until"] is not None


def test_the_status_list_is_signed_and_goes_stale(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock
) -> None:
    live = _issue(app, session, clock)
    gone = _issue(app, session, clock, name="李四", id_number=_valid_id("330106"))
    admin.post(f"/certificates/{gone.id}/revoke", 200, json=_revocation(1))
    keys = load_public_keys(_json_text(admin.get("/certificates/public-keys").json()))
    exported = admin.get("/certificates/status-list").json()
    assert exported["size"] >= MIN_SIZE and exported["ttl_seconds"] == 86400
    status_list = read_status_list(_json_text(exported), keys)
    now = clock.now()
    assert status_list.status_of(gone.status_index, now) == StatusResult.revoked
    assert status_list.status_of(live.status_index, now) == StatusResult.valid
    later = clock.advance(days=2)
    assert status_list.status_of(live.status_index, later) == StatusResult.unknown


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"certificate_lookup_per_address": 3})


def test_public_lookup_answers_only_what_the_public_may_see_and_is_throttled(
    app: FastAPI, initialised: Session, client: TestClient, clock: FrozenClock
) -> None:
    card = _issue(app, initialised, clock)
    url = "/api/v1/certificates/lookup"
    found = client.get(url, params={"name": "张三", "id_number": ID_A.lower()}).json()["items"]
    assert found == [
        {
            "number": card.number,
            "holder_name": "张三",
            "id_number_masked": "330102********" + ID_A[-4:],
            "gender_label": "男",
            "issued_on": "2026-03-02",
            "expires_on": None,
            "issuing_authority": "浙江省公安厅",
            "status": "active",
            "status_label": "有效",
        }
    ]
    assert client.get(url, params={"name": "张三", "number": card.number}).json()["items"] == found
    assert client.get(url, params={"name": "李四", "number": card.number}).json()["items"] == []
    assert client.get(url, params={"name": "张三"}).status_code == 422
    refused = client.get(url, params={"name": "张三", "number": card.number})
    assert refused.status_code == 429
    assert refused.json()["code"] == ErrorCode.CERTIFICATE_LOOKUP_TOO_MANY
    assert int(refused.headers["Retry-After"]) > 0


def test_an_enrolment_gets_one_certificate_and_a_missing_key_is_an_error(
    app: FastAPI, initialised: Session, clock: FrozenClock, tmp_path: Any
) -> None:
    session = initialised
    org_id = session.scalar(select(Org.id).where(Org.parent_id.is_(None)))
    holder = Holder("张三", Gender.male, date(1990, 1, 1), ID_A)
    with pytest.raises(AppError) as missing:
        issue_certificate(
            session,
            CertificateKeys(tmp_path / "empty"),
            now=clock.now(),
            actor=audit.CLI_ACTOR,
            holder=holder,
            issuing_org_id=org_id,  # type: ignore[arg-type]
            application_id=None,
        )
    assert missing.value.code == ErrorCode.CERTIFICATE_KEY_MISSING
    session.rollback()
    with pytest.raises(AppError) as too_long:
        issue_certificate(
            session,
            app.state.context.certificate_keys,
            now=clock.now(),
            actor=audit.CLI_ACTOR,
            holder=Holder("张" * 21, Gender.male, date(1990, 1, 1), ID_A),
            issuing_org_id=org_id,  # type: ignore[arg-type]
            application_id=None,
        )
    assert too_long.value.code == ErrorCode.CERTIFICATE_PARTICULARS_INVALID
    session.rollback()
    # the rolled-back attempts gave their numbers back
    assert _issue(app, session, clock).number == "浙202600000001"


def test_numbering_rule_is_configurable(
    app: FastAPI, initialised: Session, clock: FrozenClock
) -> None:
    card = _issue(app, initialised, clock, number_rule="{province}保{year}{serial:06d}")
    assert card.number == "浙保2026000001"
    with pytest.raises(ValueError):
        Settings(certificate_number_format="{province}{year}")
    with pytest.raises(ValueError):
        Settings(certificate_number_format="{province}{nope}{serial}")


def test_twenty_concurrent_issues_get_twenty_gap_free_numbers(
    app: FastAPI, initialised: Session, clock: FrozenClock, settings: Settings
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("concurrency is PostgreSQL's question; SQLite serialises writers")
    org_id = initialised.scalar(select(Org.id).where(Org.parent_id.is_(None)))
    initialised.commit()
    factory = create_session_factory(app.state.engine)
    keys = app.state.context.certificate_keys
    start = threading.Barrier(20)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            with factory() as session:
                start.wait()
                card = issue_certificate(
                    session,
                    keys,
                    now=clock.now(),
                    actor=audit.CLI_ACTOR,
                    holder=Holder(f"持证人{n}", Gender.male, date(1990, 1, 1), ID_A),
                    issuing_org_id=org_id,  # type: ignore[arg-type]
                    application_id=None,
                )
                session.commit()
                numbers.append(card.number)
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(numbers) == [f"浙2026{n:08d}" for n in range(1, 21)]
    indices = initialised.scalars(select(Certificate.status_index)).all()
    assert len(set(indices)) == 20
