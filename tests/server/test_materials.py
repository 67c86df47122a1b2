"""Application materials: type from content, content-addressed storage, upload and download."""

import hashlib
import io
import struct
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from reportlab.pdfgen import canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.routes.materials import content_disposition
from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import Application, Material
from server.db.models import AuditEntry
from server.services.approvals import publishing
from server.services.errors import AppError
from server.services.materials.kinds import classify, clean_filename, sniff
from server.services.materials.store import MaterialStore
from shared.approvals import MaterialKind
from shared.errors import ErrorCode
from tests.server.conftest import Api
from tests.server.world import City, make_user, two_cities


def pdf_bytes(text: str = "licence scan") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, invariant=True)
    page.drawString(72, 720, text)
    page.showPage()
    page.save()
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bytes() -> bytes:
    """A valid 1×1 grey PNG, built by hand so the server tests need no imaging library."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


JPEG_HEAD = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --- sniffing and names -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", MaterialKind.pdf),
        (b"%PDF-2.0\n", MaterialKind.pdf),
        (JPEG_HEAD, MaterialKind.jpeg),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", MaterialKind.png),
        (EXE, None),
        (b"PK\x03\x04\x14\x00\x00\x00", None),
        (b"", None),
        (b"hello, this is text\n", None),
        (b"\n%PDF-1.4\n", None),  # readers tolerate leading bytes; we do not
        (b"%PDF-", None),
        (b"\x89PNG\r\n", None),  # a truncated signature is not a PNG
        (b"\xff\xd8", None),
    ],
    ids=[
        "pdf",
        "pdf2",
        "jpeg",
        "png",
        "exe",
        "zip",
        "empty",
        "text",
        "pdf-not-at-0",
        "pdf-no-version",
        "png-short",
        "jpeg-short",
    ],
)
def test_sniff(head: bytes, expected: MaterialKind | None) -> None:
    assert sniff(head) == expected


@pytest.mark.parametrize(
    ("head", "filename", "kind"),
    [
        (b"%PDF-1.4", "营业执照.pdf", MaterialKind.pdf),
        (b"%PDF-1.4", "SCAN.PDF", MaterialKind.pdf),
        (JPEG_HEAD, "photo.jpg", MaterialKind.jpeg),
        (JPEG_HEAD, "photo.JPEG", MaterialKind.jpeg),
        (png_bytes()[:8], "seal.png", MaterialKind.png),
    ],
)
def test_classify_accepts_matching_name(head: bytes, filename: str, kind: MaterialKind) -> None:
    assert classify(head, filename) == kind


def _refusal(head: bytes, filename: str) -> AppError:
    with pytest.raises(AppError) as caught:
        classify(head, filename)
    assert caught.value.code == ErrorCode.MATERIAL_TYPE_REFUSED
    return caught.value


def test_classify_names_both_types_when_they_disagree() -> None:
    error = _refusal(png_bytes()[:8], "营业执照.pdf")
    assert ".pdf" in error.message
    assert "PNG" in error.message
    assert "营业执照.pdf" in error.message
    assert error.details["detected"] == "image/png"


def test_classify_refuses_programs_empty_files_and_other_extensions() -> None:
    assert "不是 PDF、JPEG 或 PNG" in _refusal(EXE, "合同.pdf").message
    assert "空文件" in _refusal(b"", "合同.pdf").message
    assert "扩展名须为" in _refusal(b"%PDF-1.4", "合同.exe").message
    assert "扩展名须为" in _refusal(b"%PDF-1.4", "合同").message


def test_clean_filename() -> None:
    assert clean_filename("C:\\fakepath\\扫描件.pdf") == "扫描件.pdf"
    assert clean_filename("../../etc/passwd.png") == "passwd.png"
    assert clean_filename(unicodedata.normalize("NFD", "é.pdf")) == "é.pdf"
    assert clean_filename(" a\x00b\x1f.pdf ") == "ab.pdf"
    long = clean_filename("长" * 300 + ".pdf")
    assert len(long) == 200
    assert long.endswith(".pdf")
    for blank in (None, "", "  ", "dir/", ".."):
        with pytest.raises(AppError) as caught:
            clean_filename(blank)
        assert caught.value.code == ErrorCode.VALIDATION_ERROR


# --- the store ----------------------------------------------------------------------------


def test_store_puts_bytes_at_their_address_once(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "materials")
    data = pdf_bytes()
    sha = hashlib.sha256(data).hexdigest()
    pieces = [data[i : i + 100] for i in range(0, len(data), 100)]
    blob = store.put(pieces, max_bytes=len(data))
    assert (blob.sha256, blob.size, blob.kind) == (sha, len(data), MaterialKind.pdf)
    assert store.path(sha) == tmp_path / "materials" / sha[:2] / sha
    assert store.path(sha).read_bytes() == data
    with store.open(sha) as stored:
        assert stored.read() == data

    assert store.put([data], max_bytes=len(data)) == blob
    assert files_under(tmp_path) == [store.path(sha)]


def _counting(chunks: list[bytes], seen: list[int]) -> Iterator[bytes]:
    for n, chunk in enumerate(chunks, 1):
        seen.append(n)
        yield chunk


def test_store_refuses_too_large_without_reading_on(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "materials")
    seen: list[int] = []
    with pytest.raises(AppError) as caught:
        store.put(_counting([b"%PDF-1.4" + b"x" * 992] * 5, seen), max_bytes=2500)
    assert caught.value.code == ErrorCode.MATERIAL_TOO_LARGE
    assert caught.value.details == {"max_bytes": 2500}
    assert seen == [1, 2, 3]
    assert files_under(tmp_path) == []


def test_store_refuses_wrong_type_at_the_first_chunk(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "materials")
    seen: list[int] = []
    with pytest.raises(AppError) as caught:
        store.put(_counting([EXE] * 10, seen), max_bytes=10**6)
    assert caught.value.code == ErrorCode.MATERIAL_TYPE_REFUSED
    assert seen == [1]
    assert files_under(tmp_path) == []


def test_store_sniffs_across_tiny_chunks_and_refuses_empty(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path / "materials")
    data = png_bytes()
    assert store.put([bytes([b]) for b in data], max_bytes=1000).kind == MaterialKind.png
    with pytest.raises(AppError) as caught:
        store.put([b"", b""], max_bytes=1000)
    assert caught.value.code == ErrorCode.MATERIAL_TYPE_REFUSED
    assert files_under(tmp_path) == [store.path(hashlib.sha256(data).hexdigest())]


def test_store_cleans_up_when_the_upload_breaks_off(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"%PDF-1.4\n"
        raise ConnectionResetError

    store = MaterialStore(tmp_path / "materials")
    with pytest.raises(ConnectionResetError):
        store.put(broken(), max_bytes=1000)
    assert files_under(tmp_path) == []


def test_store_refuses_paths_that_are_not_addresses(tmp_path: Path) -> None:
    store = MaterialStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "0" * 63):
        with pytest.raises(ValueError, match="SHA-256"):
            store.path(bad)


# --- through the API ----------------------------------------------------------------------


@dataclass
class Desk:
    application_id: int
    hz: City
    nb: City
    intake: Api
    nb_intake: Api
    materials: Path


def _intake_user(admin: Api, client: TestClient, city: City, username: str) -> Api:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": f"{username}受理",
            "org_id": city.city_id,
            "permissions": ["applications:view", "applications:intake"],
            "data_scope": {"kind": "own_subtree"},
        },
    ).json()
    return make_user(admin, client, username, city.city_id, role["id"])[1]


def add_application(session: Session, org_id: int, now: FrozenClock) -> int:
    """A bare application row; intake is not needed to attach materials."""
    at = now.now()
    definition = publishing.latest(session, "company_licence")
    assert definition is not None
    application = Application(
        number="SQ2026000001",
        business_type="company_licence",
        applicant_kind="unit",
        applicant_name="杭州平安保安服务有限公司",
        applicant_code="91330102MA2H000001",
        region_code="330102",
        org_id=org_id,
        definition=definition,
        status="in_review",
        form={},
        submitted_at=at,
        round_started_at=at,
        created_at=at,
        updated_at=at,
    )
    session.add(application)
    session.commit()
    return application.id


@pytest.fixture
def desk(
    admin: Api, client: TestClient, session: Session, clock: FrozenClock, settings: Settings
) -> Desk:
    hz, nb = two_cities(admin, client)
    return Desk(
        application_id=add_application(session, hz.county_id, clock),
        hz=hz,
        nb=nb,
        intake=_intake_user(admin, client, hz, "hz_intake"),
        nb_intake=_intake_user(admin, client, nb, "nb_intake"),
        materials=settings.data_dir / "materials",
    )


def upload(
    api: Api,
    application_id: int,
    data: bytes,
    filename: str,
    expect: int,
    title: str = "营业执照",
    content_type: str = "application/pdf",
) -> dict[str, Any]:
    response = api.post(
        f"/applications/{application_id}/materials",
        expect,
        files={"file": (filename, data, content_type)},
        data={"title": title},
    )
    return response.json()


def rows(session: Session) -> list[Material]:
    session.rollback()
    return list(session.scalars(select(Material).order_by(Material.id)))


def test_upload_pdf_is_stored_at_its_address(
    desk: Desk, session: Session, clock: FrozenClock
) -> None:
    data = pdf_bytes()
    sha = hashlib.sha256(data).hexdigest()
    body = upload(desk.intake, desk.application_id, data, "营业执照.pdf", 201)
    assert body == {
        "id": body["id"],
        "application_id": desk.application_id,
        "round": 1,
        "title": "营业执照",
        "filename": "营业执照.pdf",
        "media_type": "application/pdf",
        "size": len(data),
        "sha256": sha,
        "uploaded_at": body["uploaded_at"],
        "uploaded_by": "用户hz_intake",
    }
    assert files_under(desk.materials) == [desk.materials / sha[:2] / sha]
    assert (desk.materials / sha[:2] / sha).read_bytes() == data
    [row] = rows(session)
    assert (row.sha256, row.size, row.media_type) == (sha, len(data), "application/pdf")
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "material.upload"))
    assert entry is not None
    assert entry.entity_id == str(body["id"])
    assert entry.after is not None
    assert entry.after["sha256"] == sha


def test_upload_png_and_same_bytes_twice(desk: Desk, session: Session) -> None:
    data = png_bytes()
    sha = hashlib.sha256(data).hexdigest()
    first = upload(desk.intake, desk.application_id, data, "公章.png", 201, "公章", "image/png")
    second = upload(desk.intake, desk.application_id, data, "公章副本.PNG", 201, "公章副本")
    assert first["media_type"] == second["media_type"] == "image/png"
    assert first["sha256"] == second["sha256"] == sha
    assert first["id"] != second["id"]
    assert files_under(desk.materials) == [desk.materials / sha[:2] / sha]
    assert len(rows(session)) == 2

    listed = desk.intake.get(f"/applications/{desk.application_id}/materials").json()
    assert [m["id"] for m in listed] == [first["id"], second["id"]]
    assert desk.intake.get(f"/applications/{desk.application_id}/materials?round=1").json()
    assert desk.intake.get(f"/applications/{desk.application_id}/materials?round=2").json() == []


@pytest.mark.parametrize(
    ("data", "filename", "says"),
    [
        (EXE, "营业执照.pdf", "不是 PDF、JPEG 或 PNG"),
        (png_bytes(), "营业执照.pdf", "但内容是 PNG 图片"),
        (pdf_bytes(), "营业执照.exe", "扩展名须为"),
        (b"", "营业执照.pdf", "空文件"),
    ],
    ids=["renamed-exe", "png-as-pdf", "exe-extension", "empty"],
)
def test_refused_uploads_leave_nothing_behind(
    desk: Desk, session: Session, data: bytes, filename: str, says: str
) -> None:
    body = upload(desk.intake, desk.application_id, data, filename, 415)
    assert body["code"] == "MATERIAL_TYPE_REFUSED"
    assert says in body["message"]
    assert files_under(desk.materials) == []
    assert rows(session) == []


def test_too_large_is_refused_and_cleaned_up(
    desk: Desk, session: Session, app: FastAPI, settings: Settings
) -> None:
    app.state.context.settings = settings.model_copy(update={"material_max_bytes": 1024})
    body = upload(desk.intake, desk.application_id, b"%PDF-1.4\n" + b"0" * 2000, "大.pdf", 413)
    assert body["code"] == "MATERIAL_TOO_LARGE"
    assert "1 KB" in body["message"]
    assert files_under(desk.materials) == []
    assert rows(session) == []


def test_download_returns_the_same_bytes(desk: Desk) -> None:
    data = pdf_bytes("download me")
    name = "营业执照 副本.pdf"
    created = upload(desk.intake, desk.application_id, data, name, 201)
    response = desk.hz.admin.get(f"/materials/{created['id']}/content")
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-disposition"] == (
        'attachment; filename="____ __.pdf"; '
        "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%20%E5%89%AF%E6%9C%AC.pdf"
    )


def test_content_disposition_quotes_safely() -> None:
    header = content_disposition('a"b\\c;d.pdf')
    assert header == "attachment; filename=\"a_b_c;d.pdf\"; filename*=UTF-8''a%22b%5Cc%3Bd.pdf"


def test_other_city_sees_nothing(desk: Desk) -> None:
    created = upload(desk.intake, desk.application_id, pdf_bytes(), "a.pdf", 201)
    app_id = desk.application_id
    for response in (
        desk.nb_intake.post(
            f"/applications/{app_id}/materials",
            404,
            files={"file": ("b.pdf", pdf_bytes(), "application/pdf")},
            data={"title": "材料"},
        ),
        desk.nb_intake.get(f"/applications/{app_id}/materials", 404),
        desk.nb_intake.get(f"/materials/{created['id']}/content", 404),
        desk.nb.admin.get(f"/materials/{created['id']}/content", 404),
        desk.intake.get("/materials/999999/content", 404),
    ):
        assert response.json()["code"] == "NOT_FOUND"
    assert len(files_under(desk.materials)) == 1


def test_upload_needs_intake_permission(desk: Desk, session: Session) -> None:
    body = upload(desk.hz.admin, desk.application_id, pdf_bytes(), "a.pdf", 403)
    assert body["code"] == "PERMISSION_DENIED"
    assert body["details"] == {"permission": "applications:intake"}
    assert files_under(desk.materials) == []
    assert rows(session) == []


def test_title_is_required(desk: Desk) -> None:
    body = upload(desk.intake, desk.application_id, pdf_bytes(), "a.pdf", 422, title="   ")
    assert body["code"] == "VALIDATION_ERROR"
    assert files_under(desk.materials) == []
