"""Every size has a bound: fields, request bodies (also through the real uvicorn server), uploaded
files, an xlsx's unpacked XML, rows, and the length of an import's error answer."""

import csv
import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from fastapi import FastAPI
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.approval_models import WatchListEntry
from server.services.screening.watchlist_import import COLUMNS
from server.services.spreadsheets import ERRORS_SHOWN
from tests.server.conftest import Api
from tests.server.screening_fixtures import valid_id
from tests.server.test_bad_input import assert_client_error

KB = 1024
MB = 1024 * KB


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, so that each bound is crossed with little data."""
    return settings.model_copy(
        update={
            "request_max_bytes": 256 * KB,
            "material_max_bytes": 512 * KB,
            "import_max_bytes": 256 * KB,
            "import_max_unpacked_bytes": 128 * KB,
            "import_max_rows": 1000,
        }
    )


def _rows(count: int, *, bad: bool = False) -> list[list[str]]:
    category = "赌博" if bad else "刑事犯罪"
    return [
        [
            valid_id(birth=f"19{50 + n // 1000:02d}0101", seq=f"{n % 1000:03d}"),
            "张三",
            category,
            "杭州",
        ]
        for n in range(count)
    ]


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS[:4])
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS[:4]))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _upload(admin: Api, name: str, data: bytes, expect: int | None = None) -> Any:
    return admin.post("/screening/watch-list", expect, files={"file": (name, data)})


def _entries(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(WatchListEntry)) or 0


def test_a_long_correction_item_is_refused_and_a_huge_one_is_not_even_read(admin: Api) -> None:
    body = {"version": 1, "reason": "材料不全", "corrections": ["补" * 501]}
    refused = assert_client_error(admin.post("/applications/1/reject", None, json=body), 422)
    assert refused["code"] == "VALIDATION_ERROR"
    body["corrections"] = ["补" * (10 * MB // 3)]
    refused = assert_client_error(admin.post("/applications/1/reject", None, json=body), 413)
    assert refused["code"] == "REQUEST_TOO_LARGE"
    assert refused["details"] == {"limit_bytes": 256 * KB}


def test_a_json_body_over_the_limit_is_refused_with_or_without_a_length(admin: Api) -> None:
    big = b'{"name": "' + b"x" * (300 * KB) + b'"}'
    headers = {"Authorization": f"Bearer {admin.token}", "Content-Type": "application/json"}
    sized = admin.client.post("/api/v1/orgs", content=big, headers=headers)
    assert assert_client_error(sized, 413)["code"] == "REQUEST_TOO_LARGE"

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 16 * KB):
            yield big[start : start + 16 * KB]

    streamed = admin.client.post("/api/v1/orgs", content=chunks(), headers=headers)
    assert assert_client_error(streamed, 413)["code"] == "REQUEST_TOO_LARGE"


def test_uploads_have_their_own_limit(admin: Api) -> None:
    pdf = b"%PDF-1.4\n" + b"0" * (400 * KB)  # above request_max_bytes, below material_max_bytes
    fits = admin.post(
        "/applications/999999/materials",
        None,
        data={"title": "扫描件"},
        files={"file": ("a.pdf", pdf)},
    )
    assert fits.status_code == 404, fits.text  # read and parsed; the application does not exist
    too_big = b"%PDF-1.4\n" + b"0" * (700 * KB)
    refused = admin.post(
        "/applications/999999/materials",
        None,
        data={"title": "扫描件"},
        files={"file": ("a.pdf", too_big)},
    )
    assert assert_client_error(refused, 413)["details"] == {"limit_bytes": 512 * KB + 64 * KB}


def test_the_limits_are_in_the_api_description(admin: Api) -> None:
    paths = admin.client.get("/openapi.json").json()["paths"]
    assert paths["/api/v1/orgs"]["post"]["x-max-body-bytes"] == 256 * KB
    upload = paths["/api/v1/applications/{application_id}/materials"]["post"]
    assert upload["x-max-body-bytes"] == 512 * KB + 64 * KB
    assert "x-upload-limit-setting" not in upload


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app under the real uvicorn server (not the in-process TestClient), on a free port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}/api/v1"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_real_server_refuses_a_20_mb_body_before_reading_it(
    admin: Api, live_server: str
) -> None:
    headers = {"Authorization": f"Bearer {admin.token}"}
    body = {"name": "x" * (20 * MB), "parent_id": 1, "type": "city_bureau", "region_code": "330300"}
    try:
        response = requests.post(f"{live_server}/orgs", json=body, headers=headers, timeout=30)
    except requests.ConnectionError:
        pytest.fail("the server closed the connection instead of answering 413")
    assert assert_client_error(response, 413)["code"] == "REQUEST_TOO_LARGE"
    assert requests.get(f"{live_server}/health", timeout=10).status_code == 200


def test_an_xlsx_that_unpacks_beyond_the_limit_is_not_parsed(admin: Api, session: Session) -> None:
    data = _xlsx(_rows(900))  # a legitimate workbook whose XML is larger than 128 KB unpacked
    assert len(data) < 256 * KB
    refused = _upload(admin, "名单.xlsx", data, 422).json()
    assert refused["code"] == "IMPORT_INVALID" and "解压后" in refused["message"]
    assert _entries(session) == 0


def test_a_csv_over_the_file_limit_is_refused(admin: Api, session: Session) -> None:
    data = _csv(_rows(1000)) * 8
    assert len(data) > 256 * KB
    assert_client_error(_upload(admin, "名单.csv", data), 413)
    assert _entries(session) == 0


def test_rows_beyond_the_limit_are_refused(admin: Api, session: Session) -> None:
    refused = _upload(admin, "名单.csv", _csv(_rows(1001)), 422).json()
    assert refused["code"] == "IMPORT_INVALID" and "1000" in refused["message"]
    assert _entries(session) == 0
    assert _upload(admin, "名单.csv", _csv(_rows(1000))).json()["added"] == 1000


def test_an_import_error_answer_lists_the_first_problems_and_counts_them(admin: Api) -> None:
    refused = _upload(admin, "名单.csv", _csv(_rows(1000, bad=True)), 422).json()
    assert len(refused["details"]) == ERRORS_SHOWN
    assert refused["details"][0]["row"] == 2
    assert "1000处错误" in refused["message"] and f"前{ERRORS_SHOWN}处" in refused["message"]


def test_a_file_name_the_filesystem_cannot_hold_is_still_imported(
    admin: Api, tmp_path: Path
) -> None:
    name = "名" * 200 + "\x01.csv"
    answer = _upload(admin, name, _csv(_rows(1)))
    assert answer.status_code == 200, answer.text
    assert answer.json()["added"] == 1


def test_a_csv_field_past_the_readers_limit_is_refused(admin: Api, session: Session) -> None:
    rows = _rows(2)
    rows[1][1] = "x" * 140_000  # csv's field limit is 131,072 characters
    refused = _upload(admin, "名单.csv", _csv(rows), 422).json()
    assert refused["code"] == "IMPORT_INVALID" and "第" in refused["message"]
    assert _entries(session) == 0


def test_a_nul_character_in_a_cell_is_refused(admin: Api, session: Session) -> None:
    rows = _rows(3)
    rows[2][1] = "张\x00三"  # (an xlsx cannot hold one: openpyxl and Excel refuse it)
    refused = _upload(admin, "名单.csv", _csv(rows), 422).json()
    assert refused["code"] == "IMPORT_INVALID" and "空字符" in refused["message"]
    assert _entries(session) == 0
