"""Watch-list import from xlsx and csv (all rows or none), its template, and the CLI."""

import csv
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.approval_models import WatchListEntry
from server.db.models import AuditEntry
from server.services.audit import CLI_ACTOR
from server.services.errors import AppError
from server.services.screening import import_watch_list, write_template
from server.services.screening.watchlist_import import COLUMNS
from shared.errors import ErrorCode
from tests.server.screening_fixtures import LI, WANG, ZHANG, valid_id
from tests.server.test_cli import Cli

HEADER = list(COLUMNS)


def _xlsx(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _csv(path: Path, rows: list[list[str]], encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _entries(session: Session) -> list[tuple[str, str, str, str, date | None]]:
    rows = session.scalars(select(WatchListEntry).order_by(WatchListEntry.id))
    return [(e.id_number, e.name, e.category, e.source, e.listed_date) for e in rows]


def _import(session: Session, path: Path, clock: FrozenClock) -> Any:
    report = import_watch_list(session, path, now=clock.now(), actor=CLI_ACTOR)
    session.commit()
    return report


def _refused(session: Session, path: Path, clock: FrozenClock) -> AppError:
    with pytest.raises(AppError) as raised:
        import_watch_list(session, path, now=clock.now(), actor=CLI_ACTOR)
    session.rollback()
    assert raised.value.code == ErrorCode.IMPORT_INVALID
    return raised.value


def test_xlsx_import_and_upsert(session: Session, clock: FrozenClock, tmp_path: Path) -> None:
    first = _xlsx(
        tmp_path / "first.xlsx",
        [
            [ZHANG, "张三", "刑事犯罪", "杭州市公安局", date(2021, 3, 4)],
            [WANG.lower(), "王五", "wanted_fugitive", "公安部", "2022-01-05"],
            [LI, "李四", "肇事肇祸精神病", "西湖区公安分局", None],
            [None, None, None, None, None],
        ],
    )
    report = _import(session, first, clock)
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    assert _entries(session) == [
        (ZHANG, "张三", "criminal_record", "杭州市公安局", date(2021, 3, 4)),
        (WANG, "王五", "wanted_fugitive", "公安部", date(2022, 1, 5)),
        (LI, "李四", "mental_illness_incident", "西湖区公安分局", None),
    ]
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "screening.watchlist_import")
    ).one()
    assert audit.after == {"file": "first.xlsx", "added": 3, "updated": 0, "unchanged": 0}

    second = _xlsx(
        tmp_path / "second.xlsx",
        [
            [ZHANG, "张三丰", "刑事犯罪", "杭州市公安局", date(2021, 3, 4)],
            [WANG, "王五", "网上逃犯", "公安部", "2022-01-05"],
            [LI, "李四", "肇事肇祸精神病", "宁波市公安局", None],
        ],
    )
    report = _import(session, second, clock)
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert len(_entries(session)) == 4
    assert _entries(session)[0][1] == "张三丰"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_import_encodings(
    session: Session, clock: FrozenClock, tmp_path: Path, encoding: str
) -> None:
    path = _csv(
        tmp_path / "list.csv",
        [
            [ZHANG, "张三", "收容收教", "杭州市公安局", "2020-02-29"],
            [LI, "李四", "drug_rehabilitation", "浙江省公安厅", ""],
        ],
        encoding,
    )
    report = _import(session, path, clock)
    assert report.added == 2
    assert _entries(session) == [
        (ZHANG, "张三", "detention_education", "杭州市公安局", date(2020, 2, 29)),
        (LI, "李四", "drug_rehabilitation", "浙江省公安厅", None),
    ]


def test_bad_rows_import_nothing(session: Session, clock: FrozenClock, tmp_path: Path) -> None:
    bad_check = ZHANG[:-1] + ("0" if ZHANG[-1] != "0" else "1")
    path = _xlsx(
        tmp_path / "bad.xlsx",
        [
            [LI, "李四", "刑事犯罪", "杭州市公安局", "2021-01-01"],
            [bad_check, "张三", "刑事犯罪", "杭州市公安局", ""],
            [ZHANG, "张三", "吸毒", "杭州市公安局", ""],
            [ZHANG, "", "刑事犯罪", "", "2021/13/01"],
            [LI, "李四", "criminal_record", "杭州市公安局", ""],
            [330102199001011237, "赵六", "刑事犯罪", "杭州市公安局", ""],
            [valid_id(seq="201"), "孙七", "刑事犯罪", "杭州市公安局", "2030-01-01"],
        ],
    )
    err = _refused(session, path, clock)
    found = {(d["row"], d["column"]) for d in err.details}
    assert found == {
        (3, "身份证号"),
        (4, "类别"),
        (5, "姓名"),
        (5, "来源"),
        (5, "列入日期"),
        (6, "身份证号"),
        (7, "身份证号"),
        (8, "列入日期"),
    }
    messages = {(d["row"], d["column"]): d["message"] for d in err.details}
    assert messages[(3, "身份证号")] == "身份证号校验位错误，请核对号码"
    assert messages[(4, "类别")].startswith("未知的类别“吸毒”")
    assert messages[(6, "身份证号")] == "与第2行重复（身份证号、类别、来源相同）"
    assert "文本格式" in messages[(7, "身份证号")]
    assert err.message == "导入文件有8处错误，未导入任何数据"
    assert _entries(session) == []


def test_header_and_file_problems(session: Session, clock: FrozenClock, tmp_path: Path) -> None:
    no_source = _xlsx(tmp_path / "h.xlsx", [[ZHANG, "张三", "刑事犯罪"]], HEADER[:3])
    err = _refused(session, no_source, clock)
    assert err.details == [{"row": 1, "column": "来源", "message": "缺少该列"}]
    assert "缺少列：来源" in err.message

    other = tmp_path / "list.txt"
    other.write_text("身份证号", encoding="utf-8")
    assert "只能导入" in _refused(session, other, clock).message
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _refused(session, empty, clock).message == "导入文件为空"
    assert _entries(session) == []


def test_a_damaged_file_is_refused_in_chinese(
    session: Session, clock: FrozenClock, tmp_path: Path
) -> None:
    """The reader's own exception text (zipfile, csv, calamine: English) stays in the server
    log; the clerk reads what is wrong and what to do, in Chinese."""
    not_zip = tmp_path / "a.xlsx"
    not_zip.write_bytes(b"PK\x03\x04 not really a zip")
    other_zip = tmp_path / "b.xlsx"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
    long_cell = tmp_path / "c.csv"
    long_cell.write_text(",".join(HEADER) + '\n"' + "x" * 200_000 + '",1,2,3\n', encoding="utf-8")
    for path in (not_zip, other_zip, long_cell):
        message = _refused(session, path, clock).message
        assert set(re.findall(r"[A-Za-z]+", message)) <= {"Excel", "CSV", "xlsx"}, message
        assert "请" in message, message


def test_template(session: Session, clock: FrozenClock, tmp_path: Path) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["比对名单", "填写说明"]
    assert book.get_sheet_by_index(0).to_python()[0] == HEADER
    assert _refused(session, path, clock).message == "导入文件没有数据行"


@pytest.fixture
def cli(settings: Settings) -> Cli:
    return Cli(settings)


def _count(settings: Settings) -> int:
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        count = conn.execute(text("select count(*) from watch_list")).scalar()
    engine.dispose()
    return int(count or 0)


def test_cli_import_and_template(cli: Cli, settings: Settings, tmp_path: Path) -> None:
    cli("init-db")
    bad = _xlsx(
        tmp_path / "bad.xlsx",
        [
            [ZHANG, "张三", "刑事犯罪", "杭州市公安局", ""],
            [LI, "李四", "未知类别", "杭州市公安局", ""],
        ],
    )
    result = cli("screening", "import", str(bad), ok=False)
    assert "导入文件有1处错误，未导入任何数据" in result.stderr
    assert "第3行 [类别] 未知的类别“未知类别”" in result.stderr
    assert _count(settings) == 0
    good = _csv(
        tmp_path / "good.csv",
        [[ZHANG, "张三", "刑事犯罪", "杭州市公安局", ""], [LI, "李四", "网上逃犯", "公安部", ""]],
        "gbk",
    )
    result = cli("screening", "import", str(good))
    assert "新增 2 条，更新 0 条，未变 0 条" in result.stdout
    assert _count(settings) == 2
    assert "未变 2 条" in cli("screening", "import", str(good)).stdout
    assert "文件不存在" in cli("screening", "import", str(tmp_path / "nope.csv"), ok=False).stderr
    template = tmp_path / "名单模板.xlsx"
    assert "已生成模板" in cli("screening", "template", str(template)).stdout
    assert template.stat().st_size > 0
    assert "审计链完整" in cli("audit", "verify").stdout


def test_large_import_and_reimport(session: Session, clock: FrozenClock, tmp_path: Path) -> None:
    births = ("19800101", "19900101")
    rows = [
        [valid_id(birth=b, seq=f"{n:03d}"), f"人{n}", "刑事犯罪", "来源", ""]
        for b in births
        for n in range(300)
    ]
    path = _xlsx(tmp_path / "many.xlsx", rows)
    assert _import(session, path, clock).added == 600
    report = _import(session, path, clock)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 600)
    assert session.scalar(select(func.count()).select_from(WatchListEntry)) == 600
