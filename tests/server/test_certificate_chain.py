"""The whole 保安员证 chain end to end through the HTTP API, on SQLite and PostgreSQL (issue 16,
"Tests"): approved enrolments → an exam with a pass rule → publish (notices in the outbox) → the
real xlsx template → an import with mistakes (every problem reported, nothing written) → the
corrected import → grading by the rule → 通知成绩 → 制证审批 in the city clerk's inbox → approval
issues the card → the card PDF, its back rendered and the QR read with a real reader → 打印 →
已发证 → the QR text verified offline (CLI) and by the API → 吊销 → both say revoked. A tampered,
a foreign-signed and a truncated QR text are each refused by the offline CLI with its own reason
(the API's three are in test_certificates.py).

Not here: the card on the simulated Evolis printer. Face → K panel is drawn by the Qt painter
(client/devices/card_print.py); tests/client/test_certificate_desk.py prints it there.
"""

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import zxingcpp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from server.cli.main import app as cli_app
from server.clock import FrozenClock
from server.db.approval_models import Application
from server.db.exam_models import ExamCandidate
from server.db.models import AuditEntry, Notification
from server.services.scoresheets.spec import SCORES_SHEET
from shared.certificate_payload import B45, DOMAIN, PREFIX, decode, encode, key_id_of
from shared.enums import BusinessType
from tests.card_faces import portrait
from tests.server.approval_world import World
from tests.server.conftest import Api
from tests.server.exam_world import approved
from tests.server.test_card_pdf import rendered
from tests.server.test_certificate_review import upload_photo
from tests.server.test_cli import Cli, cli  # noqa: F401  (the fixture)
from tests.server.test_exam_scores import fill, sheet, template, upload, world  # noqa: F401
from tests.server.test_exams import new_exam

THEORY, PRACTICE = "理论（满分100）", "实操（满分100）"  # template columns D and E; F is 缺考
REVOCATION = {"reason": "违法犯罪", "basis": "《保安服务管理条例》第四十三条"}


# --- small helpers ---------------------------------------------------------------------------


def statuses(admin: Api) -> dict[str, tuple[str, str]]:
    """Each enrolment's (status, label) in 考试报名, by candidate name."""
    items = admin.get("/exam-enrolments", params={"page_size": 100}).json()["items"]
    return {line["name"]: (line["status"], line["status_label"]) for line in items}


def notices(session: Session, subject: str) -> list[Notification]:
    session.expire_all()
    query = select(Notification).where(Notification.subject == subject)
    return list(session.scalars(query.order_by(Notification.id)))


def audited(session: Session, action: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0


def qr_of_card_pdf(pdf: bytes, tmp_path: Path) -> str:
    """The one QR code on the card's back (page 2), rendered at 300 dpi and read by zxing."""
    (barcode,) = zxingcpp.read_barcodes(rendered(pdf, tmp_path, 2).convert("L"))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return str(barcode.text)


def one_character_changed(payload: str) -> str:
    """The QR text with one Base45 character of the signature changed so that it still decodes:
    the lowest digit of a three-character group (a pair of bytes) moves by one."""
    signature_starts = len(decode(payload).message) - len(DOMAIN)
    at = len(PREFIX) + 3 * ((signature_starts + 16) // 2)  # a pair well inside the signature
    low = B45.index(payload[at])
    changed = payload[:at] + B45[low - 1 if low else 1] + payload[at + 1 :]
    assert decode(changed).claims == decode(payload).claims  # the same card, a wrong signature
    return changed


def signed_by_a_stranger(payload: str) -> str:
    """The same claims signed by a key that no key file lists."""
    stranger = Ed25519PrivateKey.generate()
    raw = stranger.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    claims = decode(payload).claims
    return encode(replace(claims, key_id=key_id_of("ed25519", raw)), stranger)


def offline(run_cli: Cli, keys: Path, status_list: Path) -> Callable[[str, bool], str]:
    """``sgss-server certificate verify`` through its real entry point, with the exported key
    file and status list; returns its report."""

    def run(text: str, valid: bool) -> str:
        args = ("--public-keys", str(keys), "--status-list", str(status_list))
        return str(run_cli("certificate", "verify", text, *args, ok=valid).stdout)

    return run


def verified_offline(keys: Path, status_list: Path, text: str, *, valid: bool) -> str:
    """The same command run in this process (a new process spends seconds importing the
    server): it must exit 0 for a valid card, 1 otherwise; returns its report."""
    args = ["--public-keys", str(keys), "--status-list", str(status_list)]
    result = CliRunner().invoke(cli_app, ["certificate", "verify", text, *args])
    assert result.exit_code == (0 if valid else 1), result.output
    return result.output


def refused_offline(keys: Path, status_list: Path, text: str) -> str:
    return verified_offline(keys, status_list, text, valid=False)


def verify_api(client: TestClient, payload: str) -> dict[str, Any]:
    response = client.post("/api/v1/certificates/verify", json={"payload": payload})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# --- the chain -------------------------------------------------------------------------------


def test_from_approved_enrolments_to_a_revoked_card(
    world: World,  # noqa: F811
    admin: Api,
    client: TestClient,
    session: Session,
    clock: FrozenClock,
    cli: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    # 1. Three enrolments approved at every level; 考生01 brings a 证件照 (a drawn placeholder)
    ids = {f"考生{n:02d}": approved(world, n) for n in (1, 2, 3)}
    photo_sha = upload_photo(world, ids["考生01"], portrait(1))
    assert {name: statuses(admin)[name][0] for name in ids} == dict.fromkeys(ids, "awaiting_exam")

    # 2. An exam with the rule 理论 100/60 + 实操 100/60, starting in ten minutes; candidates added
    start = clock.now() + timedelta(minutes=10)
    exam = new_exam(
        admin,
        session,
        clock,
        seats=3,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
    )
    assert (exam["status"], exam["candidates"]) == ("draft", 0)
    assert exam["pass_rule_description"] == "理论 100 分（60 分合格）、实操 100 分（60 分合格）"
    exam = admin.post(
        f"/exams/{exam['id']}/candidates",
        json={"version": exam["version"], "application_ids": list(ids.values())},
    ).json()
    assert exam["candidates"] == 3

    # 3. Publish: admission numbers, and one SMS and one app notice per candidate in the outbox
    exam = admin.post(f"/exams/{exam['id']}/publish", json={"version": exam["version"]}).json()
    assert exam["status"] == "published"
    seats = {s["name"]: s for s in admin.get(f"/exams/{exam['id']}/candidates").json()}
    assert sorted(seats) == sorted(ids) and all(s["admission_number"] for s in seats.values())
    sent = notices(session, "保安员资格考试通知")
    assert sorted(n.channel for n in sent) == ["app"] * 3 + ["sms"] * 3
    id_numbers = {session.get(Application, i).applicant_code for i in ids.values()}  # type: ignore[union-attr]
    assert {n.recipient for n in sent if n.channel == "app"} == id_numbers
    for name, seat in seats.items():
        told = [n for n in sent if n.body.startswith(f"{name}：")]
        assert sorted(n.channel for n in told) == ["app", "sms"]
        assert all(seat["admission_number"] in n.body and "文三路100号" in n.body for n in told)
    assert statuses(admin)["考生01"][0] == "scheduled"

    # 4. The exam has begun: the score template, a real xlsx with the candidates prefilled
    clock.advance(minutes=11)
    blank = template(admin, exam["id"])
    rows = list(load_workbook(io.BytesIO(blank))[SCORES_SHEET].iter_rows(values_only=True))
    assert rows[0] == ("准考证号", "姓名", "身份证号", THEORY, PRACTICE, "缺考")
    row_of = {r[1]: n for n, r in enumerate(rows[1:], start=2)}  # 姓名 → sheet row
    assert sorted(row_of) == sorted(ids)
    assert {r[1]: r[0] for r in rows[1:]} == {n: s["admission_number"] for n, s in seats.items()}

    # 5. Filled with mistakes: every problem in one 422, by row and column; nothing written
    careless = fill(
        blank,
        {
            row_of["考生01"]: (85, 190),  # out of range
            row_of["考生02"]: ("五十九", 90),  # not a number
            row_of["考生03"]: (70, None, "是"),  # absent and scored
        },
    )
    refused = upload(admin, exam["id"], careless, 422).json()
    assert refused["code"] == "SCORE_IMPORT_INVALID"
    problems = sorted((p["row"], p["column"], p["message"]) for p in refused["details"]["rows"])
    assert problems == sorted(
        [
            (row_of["考生01"], PRACTICE, "成绩190超出范围，应在0至100之间"),
            (row_of["考生02"], THEORY, "“五十九”不是数字"),
            (row_of["考生03"], THEORY, "已标记缺考，不应填写成绩"),
        ]
    )
    assert sheet(admin, exam["id"])["counts"]["entered"] == 0
    session.expire_all()
    assert [s.result for s in session.scalars(select(ExamCandidate))] == [None] * 3
    assert audited(session, "exam.scores_import") == 0

    # 6. Corrected: accepted in one go
    corrected = fill(
        blank,
        {
            row_of["考生01"]: (85, 90),
            row_of["考生02"]: (59, 90),
            row_of["考生03"]: (None, None, "是"),
        },
    )
    done = upload(admin, exam["id"], corrected).json()
    assert {k: done[k] for k in ("dry_run", "rows", "written", "passed", "failed", "absent")} == {
        "dry_run": False,
        "rows": 3,
        "written": 3,
        "passed": 1,
        "failed": 1,
        "absent": 1,
    }
    assert audited(session, "exam.scores_import") == 1

    # 7. Graded by the rule: one passes, one fails (theory under 60), one was absent
    graded = {line["name"]: line for line in sheet(admin, exam["id"])["lines"]}
    assert {n: (g["result"], g["result_label"]) for n, g in graded.items()} == {
        "考生01": ("passed", "合格"),
        "考生02": ("failed", "不合格"),
        "考生03": ("absent", "缺考"),
    }
    assert graded["考生01"]["total"] == 175
    assert graded["考生02"]["reasons"] == ["理论 59 分，低于合格分数 60 分"]

    # 8. 通知成绩: scores locked, one SMS and one app notice each, a 制证审批 for the pass only
    version = admin.get(f"/exams/{exam['id']}").json()["version"]
    locked = admin.post(f"/exams/{exam['id']}/scores/notify", json={"version": version}).json()
    assert locked["locked"] is True and locked["may_enter"] is False
    assert len(notices(session, "保安员资格考试成绩通知")) == 6
    assert statuses(admin) == {
        "考生01": ("certificate_review", "待制证审批"),
        "考生02": ("failed", "未通过"),
        "考生03": ("failed", "未通过"),
    }

    # 9. The 制证审批 is in the city clerk's 通用审批 inbox (and not the county's)
    city = world.apis["hz_clerk"]
    inbox = city.get("/inbox").json()["items"]
    (review,) = [r for r in inbox if r["business_type"] == BusinessType.guard_certificate]
    assert (review["applicant_name"], review["status"]) == ("考生01", "in_review")
    county = world.apis["xh_clerk"].get("/inbox").json()["items"]
    assert review["id"] not in {r["id"] for r in county}

    # 10. The city clerk approves: the card is issued, with the enrolment's photo, 待制证
    detail = city.get(f"/applications/{review['id']}").json()
    decided = city.post(
        f"/applications/{review['id']}/approve",
        json={"version": detail["version"], "opinion": "同意制证"},
    ).json()
    assert decided["status"] == "approved"
    listed = admin.get("/certificates").json()
    assert listed["total"] == 1
    (card,) = listed["items"]
    assert (card["holder_name"], card["application_id"]) == ("考生01", ids["考生01"])
    assert (card["number"], card["issuing_authority"]) == ("浙202600000001", "杭州市公安局")
    assert (card["status"], card["status_label"]) == ("active", "有效")
    assert (card["print_state"], card["print_state_label"]) == ("not_printed", "未打印")
    assert card["has_photo"] and card["photo_ref"] == photo_sha
    assert statuses(admin)["考生01"] == ("awaiting_print", "待制证")

    # 11. The card PDF: two CR80 pages; the QR on the back, read from the rendered page
    response = admin.get(f"/certificates/{card['id']}/card.pdf")
    assert response.headers["content-type"] == "application/pdf"
    pages = PdfReader(io.BytesIO(response.content)).pages
    assert len(pages) == 2 and card["number"] in pages[0].extract_text()
    assert len(pages[0].images) == 1  # the photo on the front
    qr_text = qr_of_card_pdf(response.content, tmp_path)
    assert qr_text == card["payload"]

    # 12. Printed to PDF: 已打印, and the enrolment is 已发证
    printed = admin.post(f"/certificates/{card['id']}/printed", json={"channel": "pdf"}).json()
    assert (printed["print_state"], printed["print_state_label"]) == ("printed", "已打印")
    assert statuses(admin)["考生01"] == ("issued", "已发证")

    # 13. The QR text verifies offline (public keys + status list) and through the API
    keys, status_list = tmp_path / "keys.json", tmp_path / "status.json"
    cli("certificate", "keys", "export-public", str(keys))
    cli("certificate", "status-list", str(status_list))
    verify = offline(cli, keys, status_list)
    report = verify(qr_text, True)
    assert f"证书编号：{card['number']}" in report and "持证人：考生01（" in report
    assert "完整性：内容完整，签名有效" in report and "证书状态：有效" in report
    assert "结论：证书有效" in report
    checked = verify_api(client, qr_text)
    assert checked["valid"] is True and checked["certificate"]["number"] == card["number"]
    assert [checked[k]["result"] for k in ("integrity", "key", "status")] == [
        "intact",
        "valid",
        "valid",
    ]

    # 14. Refused by the same offline command, each with its own reason: one character changed,
    #     a stranger's key, the text cut short
    for text, reason in (
        (one_character_changed(qr_text), "完整性：签名不符，内容可能被篡改"),
        (signed_by_a_stranger(qr_text), "完整性：签名密钥未知，无法核验"),
        (qr_text[:-5], "完整性：二维码内容不完整（被截断）"),
    ):
        refusal = refused_offline(keys, status_list, text)
        assert reason in refusal and "结论：证书有效" not in refusal

    # 15. 吊销 with reason and basis; the API and a freshly exported status list say revoked
    gone = admin.post(
        f"/certificates/{card['id']}/revoke", json={"version": printed["version"], **REVOCATION}
    ).json()
    assert (gone["status"], gone["status_label"]) == ("revoked", "已吊销")
    after = verify_api(client, qr_text)
    assert (after["valid"], after["integrity"]["result"], after["status"]["result"]) == (
        False,
        "intact",
        "revoked",
    )
    assert after["summary"] == "证书已吊销"
    cli("certificate", "status-list", str(status_list))
    report = verify(qr_text, False)
    assert "完整性：内容完整，签名有效" in report
    assert "证书状态：已吊销" in report and "结论：证书已吊销" in report
    history = admin.get(f"/certificates/{card['id']}/history").json()["events"]
    assert [e["kind"] for e in history] == ["issue", "printed", "revoke"]
    assert history[-1]["basis"] == REVOCATION["basis"]
