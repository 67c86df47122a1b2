"""Printing a 保安员证 on both engines: the card's PDF, face and photo; 打印 once, 补打 with a
reason, 打印未完成 with its reason; no photo, no print; two first prints at once make one."""

import io
import threading
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.certificate_models import Certificate, CertificateEvent
from server.db.models import AuditEntry, Org
from server.db.session import create_session_factory
from server.services import audit
from server.services.authz import Principal
from server.services.certificates import Holder, issue_certificate, printing
from server.services.errors import AppError
from server.services.materials.store import MaterialStore
from shared.approvals import MaterialKind
from shared.certificates import Gender, PrintChannel
from shared.errors import ErrorCode
from tests.card_faces import portrait
from tests.server.conftest import Api
from tests.server.world import _valid_id, make_user, root_id

ID_A = _valid_id("330102", "19900101", "123")


def _photo(settings: Settings, seed: int = 1) -> str:
    store = MaterialStore(settings.data_dir / "materials")
    blob = store.put([portrait(seed)], max_bytes=10**7, classify=lambda _h: MaterialKind.jpeg)
    return blob.sha256


def _issue(
    app: FastAPI,
    session: Session,
    clock: FrozenClock,
    settings: Settings,
    *,
    photo: bool = True,
    org_id: int | None = None,
    name: str = "欧阳明轩",
) -> Certificate:
    org_id = org_id or session.scalar(select(Org.id).where(Org.parent_id.is_(None)))
    assert org_id is not None
    card = issue_certificate(
        session,
        app.state.context.certificate_keys,
        now=clock.now(),
        actor=audit.CLI_ACTOR,
        holder=Holder(
            name=name,
            gender=Gender.male,
            birth_date=date(1990, 1, 1),
            id_number=ID_A,
            photo_ref=_photo(settings) if photo else None,
        ),
        issuing_org_id=org_id,
        application_id=None,
    )
    session.commit()
    return card


def _events(admin: Api, card_id: int) -> list[tuple[str, str, str | None]]:
    history = admin.get(f"/certificates/{card_id}/history").json()
    return [(e["kind"], e["reason"], e["reason_code"]) for e in history["events"]]


def _audited(session: Session, action: str) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_card_pdf_is_a_real_two_page_cr80_pdf(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    card = _issue(app, session, clock, settings)
    response = admin.get(f"/certificates/{card.id}/card.pdf")
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 2
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72 * 25.4, 1), round(height / 72 * 25.4, 1)) == (85.6, 54.0)
    front = reader.pages[0].extract_text()
    assert "欧阳明轩" in front and card.number in front and ID_A in front
    assert reader.pages[0].images  # the photo is on the front

    face = admin.get(f"/certificates/{card.id}/face").json()
    assert face["printable"] is True and face["qr_text"] == card.payload
    assert face["id_number"] == ID_A and face["gender_label"] == "男"
    photo = admin.get(f"/certificates/{card.id}/photo")
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.content == portrait(1)
    # printing does not change what the card states: its version stays for the lifecycle
    assert admin.get(f"/certificates/{card.id}").json()["print_state_label"] == "未打印"


def test_printed_reprint_and_print_failed(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    card = _issue(app, session, clock, settings)
    url = f"/certificates/{card.id}"
    # a failed first print: still not printed, the reason in the history
    failed = admin.post(
        f"{url}/print-failed", json={"channel": "evolis", "reason": "上盖打开，打印中断"}
    ).json()
    assert (failed["print_state"], failed["print_state_label"]) == ("print_failed", "打印未完成")
    assert failed["printed"] is False
    listed = admin.get("/certificates", params={"print_state": "print_failed"}).json()
    assert [c["id"] for c in listed["items"]] == [card.id]

    # 补打 before any print is refused: a first print is a print
    early = admin.post(f"{url}/reprint", 409, json={"channel": "pdf", "reason": "重打"})
    assert early.json()["code"] == ErrorCode.CERTIFICATE_NOT_PRINTED

    clock.advance(minutes=5)
    done = admin.post(f"{url}/printed", json={"channel": "evolis"}).json()
    assert (done["print_state"], done["printed"]) == ("printed", True)
    assert done["printed_at"] is not None and done["version"] == card.version
    again = admin.post(f"{url}/printed", 409, json={"channel": "pdf"})
    assert again.json()["code"] == ErrorCode.CERTIFICATE_ALREADY_PRINTED
    assert "补打" in again.json()["message"]

    # 补打 needs its reason; whitespace is no reason
    admin.post(f"{url}/reprint", 422, json={"channel": "os"})
    admin.post(f"{url}/reprint", 422, json={"channel": "os", "reason": "   "})
    admin.post(f"{url}/reprint", 200, json={"channel": "os", "reason": "卡面污损"})
    # a failed 补打 leaves a printed card printed
    after = admin.post(f"{url}/print-failed", json={"channel": "os", "reason": "已取消"}).json()
    assert after["print_state"] == "printed"

    assert _events(admin, card.id) == [
        ("issue", "发证", None),
        ("print_failed", "上盖打开，打印中断", "evolis"),
        ("printed", "制证机", "evolis"),
        ("reprint", "卡面污损", "os"),
        ("print_failed", "已取消", "os"),
    ]
    (reprinted,) = _audited(session, "certificate.reprint")
    assert reprinted.after == {"reason": "卡面污损", "channel": "os"}
    assert reprinted.entity_id == str(card.id)
    assert len(_audited(session, "certificate.print")) == 1
    assert len(_audited(session, "certificate.print_failed")) == 2
    assert admin.get("/certificates", params={"print_state": "printed"}).json()["total"] == 1
    assert admin.get("/certificates", params={"print_state": "not_printed"}).json()["total"] == 0


def test_no_photo_no_print_and_only_active_cards_print(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    bare = _issue(app, session, clock, settings, photo=False, name="李四")
    url = f"/certificates/{bare.id}"
    for answer in (
        admin.post(f"{url}/printed", 409, json={"channel": "pdf"}),
        admin.get(f"{url}/card.pdf", 409),
        admin.get(f"{url}/photo", 409),
    ):
        assert answer.json()["code"] == ErrorCode.CERTIFICATE_NO_PHOTO
        assert "照片" in answer.json()["message"]
    face = admin.get(f"{url}/face").json()
    assert (face["printable"], face["has_photo"]) == (False, False)
    assert "照片" in face["not_printable"]
    assert admin.get(url).json()["print_state"] == "not_printed"

    # a photo reference whose file is not on this server is no photo either
    lost = _issue(app, session, clock, settings, name="王五")
    (MaterialStore(settings.data_dir / "materials").path(lost.photo_ref or "")).unlink()
    missing = admin.post(f"/certificates/{lost.id}/printed", 409, json={"channel": "os"})
    assert "缺失" in missing.json()["message"]

    card = _issue(app, session, clock, settings, name="赵六")
    admin.post(
        f"/certificates/{card.id}/revoke",
        json={"version": card.version, "reason": "违法", "basis": "《保安服务管理条例》"},
    )
    refused = admin.post(f"/certificates/{card.id}/printed", 409, json={"channel": "pdf"})
    assert refused.json()["code"] == ErrorCode.CERTIFICATE_NOT_ACTIVE
    assert admin.get(f"/certificates/{card.id}/card.pdf", 409).json()["code"] == (
        ErrorCode.CERTIFICATE_NOT_ACTIVE
    )
    assert admin.get(f"/certificates/{card.id}/face").json()["printable"] is False


def _role(admin: Api, org_id: int, name: str, permissions: list[str], scope: str) -> int:
    role: dict[str, Any] = admin.post(
        "/roles",
        201,
        json={
            "name": name,
            "org_id": org_id,
            "permissions": permissions,
            "data_scope": {"kind": scope},
        },
    ).json()
    return int(role["id"])


def test_permissions_and_scope(
    app: FastAPI,
    admin: Api,
    client: TestClient,
    session: Session,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    card = _issue(app, session, clock, settings)
    url = f"/certificates/{card.id}"
    root = root_id(admin)
    viewer = _role(admin, root, "只读", ["certificates:view"], "all")
    _, looker = make_user(admin, client, "looker", root, viewer)
    assert looker.post(f"{url}/printed", 403, json={"channel": "pdf"}).json()["code"] == (
        ErrorCode.PERMISSION_DENIED
    )
    looker.get(f"{url}/card.pdf", 403)
    looker.post(f"{url}/print-failed", 403, json={"channel": "pdf", "reason": "x"})
    # a viewer previews with the ID number masked
    assert looker.get(f"{url}/face").json()["id_number"] == "330102********" + ID_A[-4:]

    printer = _role(admin, root, "制证", ["certificates:view", "certificates:print"], "all")
    _, clerk = make_user(admin, client, "printer", root, printer)
    clerk.post(f"{url}/printed", 200, json={"channel": "pdf"})
    # 补打 is a right of its own
    clerk.post(f"{url}/reprint", 403, json={"channel": "pdf", "reason": "污损"})

    city = admin.post(
        "/orgs",
        201,
        json={
            "name": "宁波市公安局",
            "parent_id": root,
            "type": "city_bureau",
            "region_code": "330200",
        },
    ).json()
    local = _role(
        admin,
        city["id"],
        "市制证",
        ["certificates:view", "certificates:print", "certificates:reprint"],
        "own_org",
    )
    _, outsider = make_user(admin, client, "cityprinter", city["id"], local)
    outsider.get(f"{url}/card.pdf", 404)
    outsider.get(f"{url}/face", 404)
    outsider.get(f"{url}/photo", 404)
    outsider.post(f"{url}/reprint", 404, json={"channel": "pdf", "reason": "污损"})
    outsider.post(f"{url}/print-failed", 404, json={"channel": "pdf", "reason": "x"})


def test_two_first_prints_at_once_make_one(
    app: FastAPI, admin: Api, session: Session, clock: FrozenClock, settings: Settings
) -> None:
    card = _issue(app, session, clock, settings)
    factory = create_session_factory(app.state.engine)
    store = MaterialStore(settings.data_dir / "materials")
    principal = _admin_principal(admin, session)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def one() -> None:
        with factory() as own:
            start.wait()
            try:
                printing.record_printed(
                    own, principal, store, card.id, now=clock.now(), channel=PrintChannel.evolis
                )
                own.commit()
                outcomes.append("printed")
            except AppError as err:
                own.rollback()
                outcomes.append(err.code)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted(["printed", ErrorCode.CERTIFICATE_ALREADY_PRINTED])
    session.expire_all()
    printed = session.scalars(
        select(CertificateEvent).where(
            CertificateEvent.certificate_id == card.id, CertificateEvent.kind == "printed"
        )
    ).all()
    assert len(printed) == 1
    # and through the API: a double click answers 已打印 the second time
    admin.post(f"/certificates/{card.id}/printed", 409, json={"channel": "pdf"})


def _admin_principal(admin: Api, session: Session) -> Principal:
    from server.db.models import User
    from server.services.authz import principal_for

    me = admin.get("/me").json()
    user = session.get(User, me["id"])
    assert user is not None
    return principal_for(session, user)


@pytest.mark.parametrize("channel", ["pdf", "os", "evolis"])
def test_every_channel_is_recorded_by_name(
    app: FastAPI,
    admin: Api,
    session: Session,
    clock: FrozenClock,
    settings: Settings,
    channel: str,
) -> None:
    card = _issue(app, session, clock, settings)
    admin.post(f"/certificates/{card.id}/printed", json={"channel": channel})
    label = {"pdf": "打印到PDF", "os": "系统打印机", "evolis": "制证机"}[channel]
    assert _events(admin, card.id)[-1] == ("printed", label, channel)
    admin.post(f"/certificates/{card.id}/printed", 422, json={"channel": "fax"})
