"""Documents of a final approval: issue and numbering, the PDFs, verification, printing rules."""

import hashlib
import hmac
import json
import os
import re
from collections import Counter
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from pypdf import PdfReader
from pypdf.generic import ContentStream
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, IssuedDocument
from server.db.models import AuditEntry
from server.services.audit import verify_chain
from server.services.documents import issue
from server.services.documents.render import certificate_pdf
from server.services.documents.sheets import Certificate
from server.services.documents.signing import (
    KEY_FILE,
    DocumentSigner,
    canonical_fields,
    signed_persons,
)
from shared.documents import parse_qr_payload
from shared.enums import BusinessType
from shared.masking import mask_id_number
from shared.qr_symbol import qr_code
from tests.server.approval_world import PERSON_IDS, UNIT, World, build
from tests.server.conftest import Api
from tests.server.test_approvals import PROCESSES, approve_current, submit


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # the year-rollover test moves the clock by ten months; tokens must outlive that
    return settings.model_copy(
        update={"token_idle_minutes": 60 * 24 * 400, "token_absolute_hours": 24 * 400}
    )


@pytest.fixture
def world(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> World:
    return build(initialised, client, settings, clock.now())


@pytest.fixture
def printer(world: World) -> Api:
    """May view and print every application, but neither read internal opinions nor see
    ID numbers in full."""
    role = world.role(
        "打印员", world.orgs["root"], ["applications:view", "applications:print"], "all"
    )
    return world.user("printer", world.orgs["root"], role)


def finish(world: World, business_type: BusinessType, **kw: Any) -> int:
    """Submit and approve every step; the final opinion is the external one."""
    app_id = int(submit(world, business_type, **kw)["id"])
    steps = PROCESSES[business_type].steps
    for index in range(len(steps)):
        last = index == len(steps) - 1
        result = approve_current(world, app_id, "准予许可" if last else "材料齐全，同意")
    assert result["status"] == "approved"
    return app_id


def document(api: Api, app_id: int) -> dict[str, Any]:
    return api.get(f"/applications/{app_id}/document").json()


def pdf_text(data: bytes) -> list[str]:
    assert data.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(BytesIO(data)).pages]


def test_final_approval_issues_one_numbered_document_per_kind_and_year(
    world: World, session: Session, clock: FrozenClock
) -> None:
    intake = world.apis["intake"]
    first = finish(world, BusinessType.company_licence)
    second = finish(world, BusinessType.foreign_company_licence)  # the same kind: 保安服务许可证
    filing = finish(world, BusinessType.annual_report_filing)
    training = finish(world, BusinessType.training_licence)
    numbers = {app_id: document(intake, app_id)["number"] for app_id in (first, second, filing)}
    assert numbers == {
        first: "浙公保服字〔2026〕第000001号",
        second: "浙公保服字〔2026〕第000002号",
        filing: "浙公保备字〔2026〕第000001号",
    }
    licence = document(intake, first)
    assert licence["kind"] == "service_licence" and licence["kind_label"] == "保安服务许可证"
    assert licence["holder_name"] == UNIT["unit_name"]
    assert licence["issued_by"] == "浙江省公安厅"  # the province acts on the final step
    assert document(intake, filing)["issued_by"] == "杭州市公安局"  # a city-level filing
    assert document(intake, training)["number"] == "浙公保培字〔2026〕第000001号"
    external = intake.get(f"/applications/{first}/external").json()
    assert external["document_number"] == numbers[first]
    assert session.scalar(select(func.count()).select_from(IssuedDocument)) == 4

    # a new year starts every kind's serial again
    clock._now = datetime(2027, 1, 6, 2, tzinfo=UTC)
    next_year = finish(world, BusinessType.company_licence)
    assert document(intake, next_year)["number"] == "浙公保服字〔2027〕第000001号"


def test_certificate_pdf_is_one_landscape_page_with_the_font_embedded(
    world: World, printer: Api
) -> None:
    app_id = finish(world, BusinessType.company_licence)
    meta = document(printer, app_id)
    response = printer.get(f"/applications/{app_id}/document.pdf")
    assert response.headers["content-type"] == "application/pdf"
    reader = PdfReader(BytesIO(response.content))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # A4 landscape
    (text,) = pdf_text(response.content)
    for expected in (
        meta["number"],
        UNIT["unit_name"],
        UNIT["credit_code"],
        "门卫、巡逻",
        "人员法定代表人",
        "发证机关：浙江省公安厅",
        "发证日期：2026年3月2日",
        meta["verification_code"],
    ):
        assert expected in text, expected
    assert "保安服务许可证" in text.replace(" ", "")
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    assert fonts and all("WenQuanYiMicroHei" in str(f["/BaseFont"]) for f in fonts)
    assert all("/FontFile2" in f["/FontDescriptor"].get_object() for f in fonts)
    # the QR code drawn is shared.qr_symbol's symbol for the payload the service built, module by
    # module
    symbol = qr_code(meta["qr_payload"], "m", boost=True)
    dark = {(int(row), int(column)) for row, column in np.argwhere(symbol.modules == 1)}
    assert drawn_qr_modules(reader) == dark


def drawn_qr_modules(reader: PdfReader) -> set[tuple[int, int]]:
    """(row, column) of every dark module of the one QR code on the page: the page's many
    equal-height rectangles, read back from the content stream."""
    operations = ContentStream(reader.pages[0].get_contents(), reader).operations
    rects = [[float(v) for v in operands] for operands, op in operations if op == b"re"]
    height = Counter(round(r[3], 3) for r in rects).most_common(1)[0][0]
    modules = [r for r in rects if round(r[3], 3) == height]
    unit = min(w for _, _, w, _ in modules)  # a run of one module exists in any QR code
    left, top = min(r[0] for r in modules), max(r[1] + r[3] for r in modules)
    cells = set()
    for x, y, w, h in modules:
        row, first = round((top - y - h) / unit), round((x - left) / unit)
        cells |= {(row, first + n) for n in range(round(w / unit))}
    return cells


def test_qr_payload_verifies_and_tampering_does_not(
    world: World, session: Session, app: Any, settings: Settings
) -> None:
    app_id = finish(world, BusinessType.self_recruit_filing)
    meta = document(world.apis["intake"], app_id)
    stored = session.scalars(select(IssuedDocument)).one()
    application = session.get(Application, app_id)
    assert application is not None
    signer: DocumentSigner = app.state.context.signer
    canonical = json.dumps(
        canonical_fields(stored, application, signed_persons(session, application)),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    assert stored.digest == hmac.new(signer.key, canonical, hashlib.sha256).hexdigest()
    assert (settings.data_dir / KEY_FILE).is_file()  # the key lives beside the data, not in it
    assert meta["verification_code"] == stored.digest[:16]
    assert meta["qr_payload"] == f"SGSS:{meta['number']}:{stored.digest[:16]}"
    number, code = parse_qr_payload(meta["qr_payload"]) or ("", "")
    assert (number, code) == (meta["number"], meta["verification_code"])

    # any officer who may view applications can check it, even outside the issuing city
    outsider = world.apis["nb_clerk"]
    valid = outsider.get("/documents/verify", params={"number": number, "code": code}).json()
    assert valid["valid"] is True and valid["holder_name"] == UNIT["unit_name"]
    assert valid["kind_label"] == "备案证明" and valid["issued_by"] == "杭州市公安局"
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    for bad in (
        {"number": number, "code": wrong},
        {"number": number, "code": code[:8]},  # too short to mean anything
        {"number": number.replace("000001", "000002"), "code": code},
    ):
        refused = outsider.get("/documents/verify", params=bad).json()
        assert refused["valid"] is False and refused["holder_name"] is None, bad

    other_key = DocumentSigner(settings.model_copy(update={"document_secret": SecretStr("k" * 40)}))
    assert issue.verify(session, other_key, number, code).valid is False

    session.execute(update(IssuedDocument).values(holder_name="冒名顶替保安公司"))
    session.commit()
    forged = outsider.get("/documents/verify", params={"number": number, "code": code}).json()
    assert forged["valid"] is False and "不一致" in forged["message"]


def test_no_document_unless_finally_approved(world: World, session: Session) -> None:
    clerk = world.apis["xh_clerk"]
    pending = int(submit(world, BusinessType.company_licence)["id"])
    returned = int(submit(world, BusinessType.annual_report_filing)["id"])
    clerk.post(f"/applications/{returned}/screening")  # a rejection at level one needs it too
    version = clerk.get(f"/applications/{returned}").json()["version"]
    clerk.post(
        f"/applications/{returned}/reject",
        json={"version": version, "reason": "材料不全", "corrections": ["补充年度报告"]},
    )
    enrolment = finish(world, BusinessType.guard_exam_enrolment)  # no document at this point
    for app_id in (pending, returned, enrolment):
        for path in ("document", "document.pdf"):
            refused = clerk.get(f"/applications/{app_id}/{path}", 404).json()
            assert refused["code"] == "DOCUMENT_NOT_ISSUED", (app_id, path)
            assert refused["message"].startswith("该申请尚无已签发的许可证或证明")
    assert session.scalar(select(func.count()).select_from(IssuedDocument)) == 0


def test_print_shows_internal_opinions_and_full_ids_only_to_those_allowed(
    world: World, printer: Api
) -> None:
    app_id = int(submit(world, BusinessType.legal_rep_change)["id"])
    approve_current(world, app_id, "内部研判甲")
    plain = "".join(pdf_text(printer.get(f"/applications/{app_id}/print.pdf").content))
    assert "内部研判甲" not in plain
    assert "内部意见，不予显示" in plain and "打印人无“查看内部意见”权限" in plain
    assert PERSON_IDS["legal_rep"] not in plain
    assert mask_id_number(PERSON_IDS["legal_rep"]) in plain
    assert "申请材料及审批进度" in plain and "当前待审批" in plain
    assert world.users["hz_clerk"].name in plain  # the city step is pending now

    allowed = world.apis["prov_clerk"]  # holds applications:view_internal and :print
    full = "".join(pdf_text(allowed.get(f"/applications/{app_id}/print.pdf").content))
    assert "内部研判甲" in full and "内部意见，不予显示" not in full


def test_printing_needs_the_permission_and_the_scope(world: World, printer: Api) -> None:
    app_id = finish(world, BusinessType.branch_filing)
    viewer = world.apis["intake"]  # applications:view without applications:print
    assert document(viewer, app_id)["number"].startswith("浙公保备字")
    for path in ("document.pdf", "print.pdf"):
        denied = viewer.get(f"/applications/{app_id}/{path}", 403).json()
        assert denied == {
            "code": "PERMISSION_DENIED",
            "message": "您没有执行该操作的权限",
            "details": {"permission": "applications:print"},
        }
        # 上城区 prints too, but this 西湖区 application is outside its scope and routing
        world.apis["sc_clerk"].get(f"/applications/{app_id}/{path}", 404)
    world.apis["sc_clerk"].get(f"/applications/{app_id}/document", 404)


def test_issuing_and_printing_are_audited(world: World, session: Session, printer: Api) -> None:
    app_id = finish(world, BusinessType.commendation)
    meta = document(printer, app_id)
    printer.get(f"/applications/{app_id}/document.pdf")
    printer.get(f"/applications/{app_id}/print.pdf")
    session.expire_all()
    entries = {
        e.action: e
        for e in session.scalars(
            select(AuditEntry).where(
                AuditEntry.action.in_(["document.issue", "document.print", "application.print"])
            )
        )
    }
    assert set(entries) == {"document.issue", "document.print", "application.print"}
    issued = entries["document.issue"]
    assert issued.entity_id == str(meta["id"]) and issued.after is not None
    assert issued.after["number"] == meta["number"] == "浙公保奖字〔2026〕第000001号"
    assert issued.actor_id == world.users["hz_clerk"].id  # who approved the final step
    for action in ("document.print", "application.print"):
        assert entries[action].actor_id == world.users["printer"].id
    printed = entries["application.print"].after
    assert printed is not None
    assert printed["status"] == "approved" and printed["log_entries"] >= 3
    assert (printed["internal_opinions"], printed["full_id_numbers"]) == (False, False)
    assert verify_chain(session).ok


def test_a_long_history_flows_over_pages_with_the_header_repeated(
    world: World, printer: Api
) -> None:
    app_id = int(submit(world, BusinessType.annual_report_filing)["id"])
    city = world.apis["hz_clerk"]
    for n in range(30):
        approve_current(world, app_id, f"第{n + 1}次县级同意，请市局审核")
        version = city.get(f"/applications/{app_id}").json()["version"]
        city.post(
            f"/applications/{app_id}/return",
            json={"version": version, "reason": f"第{n + 1}次退回，请县局核实人数"},
        )
    pages = pdf_text(printer.get(f"/applications/{app_id}/print.pdf").content)
    assert len(pages) >= 2
    assert all("审批人［角色］" in page for page in pages[1:]), "header row repeats"
    assert all(re.search(rf"第 {n} 页", page) for n, page in enumerate(pages, 1))
    joined = "".join(pages)
    assert "内部意见，不予显示" in joined and "第30次退回" not in joined


def test_particulars_of_any_length_stay_on_one_certificate_page() -> None:
    data = Certificate(
        title="保安服务许可证",
        number="浙公保服字〔2026〕第000009号",
        holder_name="杭州平安保安服务有限公司",
        matter="保安服务公司设立许可",
        particulars=[("服务范围", "门卫、巡逻、守护、随身护卫、安全检查。" * 40)] * 4,
        authority="浙江省公安厅",
        issued_on=date(2026, 11, 24),
        qr_payload="SGSS:浙公保服字〔2026〕第000009号:0123456789abcdef",
        verification_code="0123456789abcdef",
    )
    reader = PdfReader(BytesIO(certificate_pdf(data)))
    assert len(reader.pages) == 1
    assert "2026年11月24日" in reader.pages[0].extract_text()


def test_the_document_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite://", data_dir=tmp_path / "data")
    first = DocumentSigner(settings)
    assert not (tmp_path / "data" / KEY_FILE).exists()  # nothing is made until it is needed
    key = first.key
    assert len(key) == 32 and DocumentSigner(settings).key == key
    if os.name == "posix":
        assert (tmp_path / "data" / KEY_FILE).stat().st_mode & 0o077 == 0
    assert list((tmp_path / "data").iterdir()) == [tmp_path / "data" / KEY_FILE]
    explicit = settings.model_copy(update={"document_secret": SecretStr("e" * 40)})
    assert DocumentSigner(explicit).key == b"e" * 40


def _font_programs(pdf: bytes) -> list[bytes]:
    """The embedded TrueType programs of a PDF's first page, in font-name order."""
    fonts = PdfReader(BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    programs = []
    for name in sorted(fonts):
        descriptor = fonts[name].get_object()["/FontDescriptor"].get_object()
        programs.append(descriptor["/FontFile2"].get_object().get_data())
    return programs


def test_documents_rendered_at_once_in_many_threads_embed_the_same_fonts_as_alone() -> None:
    """Subsetting reads the shared font file through one read position: two licences issued in
    the same instant must not interleave their reads (pdfbase._OneAtATimeTTFont)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    holders = [f"杭州{'东南西北中发白春'[n]}安保安服务有限公司{n}" for n in range(8)]

    def sheet(holder: str) -> Certificate:
        return Certificate(
            title="保安服务许可证",
            number="浙公保服字〔2026〕第000009号",
            holder_name=holder,
            matter="保安服务公司设立许可",
            particulars=[("服务范围", f"门卫、巡逻、守护{holder}")],
            authority="浙江省公安厅",
            issued_on=date(2026, 11, 24),
            qr_payload="SGSS:浙公保服字〔2026〕第000009号:0123456789abcdef",
            verification_code="0123456789abcdef",
        )

    alone = {holder: _font_programs(certificate_pdf(sheet(holder))) for holder in holders}
    start = Barrier(len(holders))

    def render(holder: str) -> list[bytes]:
        start.wait()
        return _font_programs(certificate_pdf(sheet(holder)))

    for _ in range(8):
        with ThreadPoolExecutor(len(holders)) as pool:
            together = dict(zip(holders, pool.map(render, holders), strict=True))
        assert together == alone
