"""Score sheets: the template, its signed stamp, the one-pass reader and the error workbook, on
real xlsx files (written by the template, edited with openpyxl as a clerk's Excel would)."""

import gc
import io
import threading
import zipfile
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from server.services.errors import AppError
from server.services.scoresheets import (
    Candidate,
    Marks,
    ScoreImport,
    SheetSpec,
    Subject,
    error_workbook,
    import_scores,
    read_scores,
    write_template,
)
from server.services.scoresheets.spec import CHECK_SHEET, SCORES_SHEET, SUMMARY_SHEET
from server.services.spreadsheets import ERRORS_SHOWN, ImportLimits, collector_paused
from shared.errors import ErrorCode
from tests.server.screening_fixtures import id_with_x, valid_id

KEY = b"test-score-key-0123456789abcdefg"
THEORY = Subject("theory", "理论", Decimal(100))
PRACTICE = Subject("practice", "实操", Decimal(50))
X_ID = id_with_x()
CANDIDATES = (
    Candidate("2026000001", "张三", valid_id(seq="011")),
    Candidate("2026000002", "李四", valid_id(seq="023")),
    Candidate("2026000003", "王五", X_ID),
    Candidate("2026000004", "赵六", valid_id(seq="035")),
)
SPEC = SheetSpec(7, "2026年第一期保安员资格考试", (THEORY, PRACTICE), CANDIDATES)
OTHER = SheetSpec(8, "2026年第二期保安员资格考试", (THEORY, PRACTICE), CANDIDATES)
# columns of the template: A 准考证号, B 姓名, C 身份证号, D 理论, E 实操, F 缺考
FILLED = {
    "2026000001": Marks(False, {"theory": Decimal(85), "practice": Decimal("42.5")}),
    "2026000002": Marks(False, {"theory": Decimal(59), "practice": Decimal(50)}),
    "2026000003": Marks(True, {}),
    "2026000004": Marks(False, {"theory": Decimal(0), "practice": Decimal("30.25")}),
}


def _edit(data: bytes, change: Callable[[Worksheet], None]) -> bytes:
    """The workbook after ``change`` to its 成绩 sheet, saved as Excel would save it."""
    book = load_workbook(io.BytesIO(data))
    change(book[SCORES_SHEET])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _filled(change: Callable[[Worksheet], None] | None = None) -> bytes:
    data = write_template(SPEC, KEY, filled=FILLED)
    return _edit(data, change) if change else data


def _problems(result: ScoreImport) -> list[tuple[int | None, str | None, str]]:
    return [(p.row, p.column, p.message) for p in result.problems]


def test_a_filled_template_reads_back_with_counts_and_a_digest() -> None:
    result = read_scores(_filled(), SPEC, KEY)
    assert result.ok, result.problems
    assert result.by_admission() == FILLED
    assert [r.row for r in result.rows] == [2, 3, 4, 5]
    assert result.counts() == {
        "rows": 4,
        "scored": 3,
        "absent": 1,
        "not_in_file": 0,
        "errors": 0,
    }
    assert len(result.digest) == 64


def test_the_template_prefills_locks_and_hides_its_stamp() -> None:
    book = load_workbook(io.BytesIO(write_template(SPEC, KEY)))
    assert book.sheetnames == [SCORES_SHEET, "填写说明", CHECK_SHEET]
    assert book[CHECK_SHEET].sheet_state == "veryHidden"
    sheet = book[SCORES_SHEET]
    assert [c.value for c in sheet[1]] == [
        "准考证号",
        "姓名",
        "身份证号",
        "理论（满分100）",
        "实操（满分50）",
        "缺考",
    ]
    assert [c.value for c in sheet[4]][:3] == ["2026000003", "王五", X_ID]
    assert sheet.protection.sheet
    assert sheet["A2"].protection.locked and sheet["C5"].protection.locked
    assert not sheet["D2"].protection.locked and not sheet["F5"].protection.locked
    assert sheet["C2"].number_format == "@"
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert [(v.formula1, str(v.sqref)) for v in lists] == [('"是"', "F2:F5")]


def test_what_clerks_type_is_read_as_meant() -> None:
    def clerk(sheet: Worksheet) -> None:
        sheet["D2"], sheet["E2"] = "８５", " 42.5 "  # full-width digits, spaces
        sheet["D3"], sheet["E3"] = "59.0", "５０．０"  # "85.0", full-width decimal point
        sheet["C4"], sheet["F4"] = X_ID.lower(), " 是 "  # lower-case x in the ID number
        sheet["D5"], sheet["E5"] = "0", 30.25  # number stored as text, a real number
        sheet["A2"] = " 2026000001\u3000"  # the ideographic space, too

    result = read_scores(_filled(clerk), SPEC, KEY)
    assert result.ok, result.problems
    assert result.by_admission() == FILLED
    assert result.digest == read_scores(_filled(), SPEC, KEY).digest


def test_every_problem_in_one_pass_with_row_column_and_message() -> None:
    def mistakes(sheet: Worksheet) -> None:
        sheet["D2"] = "八十五"  # not a number
        sheet["E2"] = 51  # over the full mark of 50
        sheet["E3"] = None  # a subject missing
        sheet["D4"] = 60  # absent and scored
        sheet["B5"] = "赵七"  # candidate column edited
        sheet["C5"] = valid_id(seq="047")  # another (valid) person's ID number
        sheet.append(["2026000002", "李四", valid_id(seq="023"), 70, 40, None])  # duplicate
        sheet.append(["2026999999", "钱八", valid_id(seq="059"), 70, 40, None])  # unknown
        sheet.append(["2026000004", "赵六", valid_id(seq="035"), None, None, "病假"])  # bad mark
        sheet.append([None, None, None, 1, 2, None])  # no admission number
        sheet.append(["2026000001", "张三", valid_id(seq="011"), "85.555", -1, None])

    result = read_scores(_filled(mistakes), SPEC, KEY)
    assert not result.ok
    assert _problems(result) == [
        (2, "理论（满分100）", "“八十五”不是数字"),
        (2, "实操（满分50）", "成绩51超出范围，应在0至50之间"),
        (3, "实操（满分50）", "缺少该科目成绩"),
        (4, "理论（满分100）", "已标记缺考，不应填写成绩"),
        (5, "姓名", "姓名与考试名单不符，请勿修改考生信息"),
        (5, "身份证号", "身份证号与考试名单不符，请勿修改考生信息"),
        (6, "准考证号", "与第3行重复（准考证号相同）"),
        (7, "准考证号", "准考证号“2026999999”不在本场考试名单中"),
        (8, "准考证号", "与第5行重复（准考证号相同）"),
        (8, "缺考", "“病假”无法识别，缺考请填“是”，否则留空"),
        (9, "准考证号", "准考证号必填，请勿修改考生信息"),
        (10, "准考证号", "与第2行重复（准考证号相同）"),
        (10, "理论（满分100）", "成绩最多保留2位小数"),
        (10, "实操（满分50）", "成绩-1超出范围，应在0至50之间"),
    ]
    assert all(p.sheet == SCORES_SHEET for p in result.problems)
    # only the rows without a problem are parsed, and they must not be written
    assert [r.admission_number for r in result.rows] == []


def test_a_row_left_empty_and_an_absent_row_with_blank_scores() -> None:
    def untouched(sheet: Worksheet) -> None:
        sheet["D2"] = sheet["E2"] = None  # nothing typed for 张三
        sheet["D3"] = sheet["E3"] = None  # 李四 absent, scores blank
        sheet["F3"] = "缺考"

    result = read_scores(_filled(untouched), SPEC, KEY)
    assert _problems(result) == [
        (2, "理论（满分100）", "未填写成绩；缺考请在“缺考”列填“是”"),
    ]


def test_a_tick_box_is_not_the_score_one() -> None:
    """TRUE == 1 in Python: rows whose mark cells are equal by value but not by type are read
    each by its own cells, whichever comes first."""

    def ticked(sheet: Worksheet) -> None:
        sheet["D2"], sheet["E2"], sheet["F2"] = True, 1, None  # a tick box in 理论
        sheet["D3"], sheet["E3"], sheet["F3"] = 1, True, None  # equal by value to row 2
        sheet["D4"], sheet["E4"], sheet["F4"] = None, None, True  # a tick box for 缺考
        sheet["D5"], sheet["E5"], sheet["F5"] = 1, 1, False  # equal by value to row 6
        sheet.append(["2026000009", "无名", valid_id(seq="071"), True, True, False])

    result = read_scores(_filled(ticked), SPEC, KEY)
    assert _problems(result) == [
        (2, "理论（满分100）", "“True”不是数字"),
        (3, "实操（满分50）", "“True”不是数字"),
        (6, "准考证号", "准考证号“2026000009”不在本场考试名单中"),
        (6, "理论（满分100）", "“True”不是数字"),
        (6, "实操（满分50）", "“True”不是数字"),
    ]
    assert result.by_admission() == {
        "2026000003": Marks(True, {}),
        "2026000004": Marks(False, {"theory": Decimal(1), "practice": Decimal(1)}),
    }


def test_a_candidate_of_another_exam_is_named_by_the_lookup() -> None:
    def stranger(sheet: Worksheet) -> None:
        sheet.append(["2025000009", "孙九", valid_id(seq="061"), 70, 40, None])

    asked: list[list[str]] = []

    def foreign(numbers: Any) -> dict[str, str]:
        asked.append(list(numbers))
        return {"2025000009": "2025年第四期保安员资格考试"}

    result = read_scores(_filled(stranger), SPEC, KEY, foreign=foreign)
    assert asked == [["2025000009"]]  # once, with every stranger
    assert _problems(result) == [
        (6, "准考证号", "该考生属于其他考试（2025年第四期保安员资格考试），不在本场考试名单中")
    ]


def test_rows_deleted_are_not_in_the_file_and_columns_may_move() -> None:
    def trimmed(sheet: Worksheet) -> None:
        sheet.delete_rows(3)  # 李四 not imported this time
        sheet.move_range("F1:F5", cols=1)  # 缺考 moved right of a gap …
        sheet.insert_cols(1)  # … and everything shifted by one column

    result = read_scores(_filled(trimmed), SPEC, KEY)
    assert result.ok, result.problems
    assert sorted(result.by_admission()) == ["2026000001", "2026000003", "2026000004"]
    assert result.counts()["not_in_file"] == 1


def test_a_wrong_header_is_reported_and_no_row_is_read() -> None:
    def headers(sheet: Worksheet) -> None:
        sheet["D1"] = "理论成绩"  # renamed: unknown, and 理论 missing
        sheet["G1"] = "实操"  # the bare subject name is accepted, but twice is a repeat
        sheet["E2"] = "not even read"

    result = read_scores(_filled(headers), SPEC, KEY)
    assert _problems(result) == [
        (1, "理论成绩", "无法识别的列“理论成绩”，请勿修改模板的表头"),
        (1, "实操（满分50）", "“实操（满分50）”列重复（第5列已有）"),
        (1, "理论（满分100）", "缺少“理论（满分100）”列"),
    ]
    assert result.rows == ()


def test_full_width_brackets_in_a_header_are_the_same_header() -> None:
    def typed(sheet: Worksheet) -> None:
        sheet["D1"] = " 理论(满分100) "

    assert read_scores(_filled(typed), SPEC, KEY).ok


def _restamp(data: bytes, change: Callable[[Worksheet], None]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    change(book[CHECK_SHEET])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_the_stamp_refuses_another_exams_template_and_a_tampered_one() -> None:
    other = write_template(OTHER, KEY, filled=FILLED)
    result = read_scores(other, SPEC, KEY)
    assert _problems(result) == [
        (
            None,
            None,
            "该模板属于其他考试（2026年第二期保安员资格考试），请使用本系统下载的本场考试成绩模板",
        )
    ]
    assert result.problems[0].sheet == CHECK_SHEET

    def forged(sheet: Worksheet) -> None:
        sheet["B2"] = "7"  # the other exam's stamp relabelled as this exam's

    tampered = read_scores(_restamp(other, forged), SPEC, KEY)
    assert _problems(tampered) == [
        (None, None, "模板校验信息被修改或已损坏，请使用本系统下载的本场考试成绩模板")
    ]
    # the rows themselves are this exam's candidates, so the stamp is the only problem
    assert len(tampered.rows) == 4

    wrong_key = read_scores(_filled(), SPEC, b"another key")
    assert _problems(wrong_key)[0][2].startswith("模板校验信息被修改或已损坏")


def test_a_missing_stamp_and_a_changed_list_are_reported() -> None:
    book = load_workbook(io.BytesIO(_filled()))
    del book[CHECK_SHEET]
    buffer = io.BytesIO()
    book.save(buffer)
    result = read_scores(buffer.getvalue(), SPEC, KEY)
    assert _problems(result) == [
        (None, None, "缺少模板校验信息，请使用本系统下载的本场考试成绩模板")
    ]

    smaller = SheetSpec(7, SPEC.exam_name, SPEC.subjects, CANDIDATES[:3])
    result = read_scores(_filled(), smaller, KEY)
    assert _problems(result) == [
        (None, None, "下载模板后本场考试的考生名单已变更，请重新下载成绩模板"),
        (5, "准考证号", "准考证号“2026000004”不在本场考试名单中"),
    ]


def test_an_edited_candidate_column_is_refused_even_with_a_good_stamp() -> None:
    def edited(sheet: Worksheet) -> None:
        sheet["C3"] = 330102199001010231  # typed back as a number: digits lost
        sheet["A4"] = "2026000001"  # 王五's row given 张三's number

    result = read_scores(_filled(edited), SPEC, KEY)
    assert _problems(result) == [
        (3, "身份证号", "身份证号须按文本格式填写（数字格式会丢失末几位），请勿修改考生信息"),
        (4, "准考证号", "与第2行重复（准考证号相同）"),
    ]


def test_the_refusal_has_the_api_shape_and_is_capped() -> None:
    result = read_scores(write_template(SPEC, KEY), SPEC, KEY)  # nothing typed: 4 problems
    error = result.refusal()
    assert error.code is ErrorCode.SCORE_IMPORT_INVALID and error.code.status == 422
    assert error.message == "成绩文件有4处错误，未导入任何数据"
    assert error.details["total"] == 4
    assert error.details["rows"][0] == {
        "sheet": SCORES_SHEET,
        "row": 2,
        "column": "理论（满分100）",
        "message": "未填写成绩；缺考请在“缺考”列填“是”",
    }
    many = tuple(
        Candidate(f"2026{n:06d}", "考生", valid_id(seq=f"{n % 1000:03d}"))
        for n in range(ERRORS_SHOWN + 5)
    )
    big = SheetSpec(9, "大考", (THEORY,), many)
    error = read_scores(write_template(big, KEY), big, KEY).refusal()
    assert len(error.details["rows"]) == ERRORS_SHOWN
    assert error.details["total"] == ERRORS_SHOWN + 5
    assert f"以下列出前{ERRORS_SHOWN}处" in error.message


def test_import_scores_applies_only_a_clean_file() -> None:
    applied: list[ScoreImport] = []
    assert import_scores(_filled(), SPEC, KEY, applied.append) is None
    assert applied[0].by_admission() == FILLED
    with pytest.raises(AppError) as raised:
        import_scores(write_template(SPEC, KEY), SPEC, KEY, applied.append)
    assert raised.value.code is ErrorCode.SCORE_IMPORT_INVALID
    assert len(applied) == 1


def test_the_digest_tells_a_reimport_from_a_change() -> None:
    first = read_scores(_filled(), SPEC, KEY)

    def resorted(sheet: Worksheet) -> None:
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
        for offset, values in enumerate(reversed(rows)):
            for column, value in enumerate(values, start=1):
                sheet.cell(row=2 + offset, column=column).value = value
        sheet["E2"] = "30.250"  # the same 30.25 typed differently (now row 2 is 赵六)

    again = read_scores(_filled(resorted), SPEC, KEY)
    assert again.ok and again.digest == first.digest

    def changed(sheet: Worksheet) -> None:
        sheet["D2"] = 86

    assert read_scores(_filled(changed), SPEC, KEY).digest != first.digest
    assert read_scores(write_template(OTHER, KEY, filled=FILLED), OTHER, KEY).digest != (
        first.digest
    )


def test_the_error_workbook_marks_every_bad_cell_and_imports_once_corrected() -> None:
    def mistakes(sheet: Worksheet) -> None:
        sheet["D2"] = "八十五"
        sheet["B3"] = "李思"
        sheet["E5"] = 99

    result = read_scores(_filled(mistakes), SPEC, KEY)
    stray = ScoreImport(7, (), result.problems, 0, [["a\x01b"]])  # calamine reads what openpyxl
    assert load_workbook(io.BytesIO(error_workbook(stray, SPEC, KEY)))  # cannot write
    data = error_workbook(result, SPEC, KEY)
    book = load_workbook(io.BytesIO(data))
    assert book.active.title == SUMMARY_SHEET
    summary = [[c.value for c in row] for row in book[SUMMARY_SHEET].iter_rows(min_row=3)]
    assert summary == [[SCORES_SHEET, p.row, p.column, p.message] for p in result.problems]
    sheet = book[SCORES_SHEET]
    red = {
        cell.coordinate: cell.comment.text
        for row in sheet.iter_rows()
        for cell in row
        if cell.fill.fgColor.rgb == "00FFC7CE"
    }
    assert red == {
        "D2": "“八十五”不是数字",
        "B3": "姓名与考试名单不符，请勿修改考生信息",
        "E5": "成绩99超出范围，应在0至50之间",
    }
    assert not sheet["B3"].protection.locked  # a marked candidate cell can be put right
    assert sheet["D3"].value == 59  # the clerk's other values are kept

    def corrected(sheet: Worksheet) -> None:
        sheet["D2"], sheet["B3"], sheet["E5"] = 85, "李四", "30.25"

    book = load_workbook(io.BytesIO(data))
    corrected(book[SCORES_SHEET])
    buffer = io.BytesIO()
    book.save(buffer)
    again = read_scores(buffer.getvalue(), SPEC, KEY)
    assert again.ok, again.problems
    assert again.by_admission() == FILLED


def _one_problem(result: ScoreImport) -> str:
    assert [(p.row, p.column) for p in result.problems] == [(None, None)]
    return result.problems[0].message


def test_files_outside_the_limits_or_not_a_template_are_one_problem() -> None:
    data = _filled()
    assert _one_problem(read_scores(data, SPEC, KEY, limits=ImportLimits(max_bytes=1000)))
    assert "解压后超过" in _one_problem(
        read_scores(data, SPEC, KEY, limits=ImportLimits(max_unpacked_bytes=10_000))
    )
    assert "超过 3 行" in _one_problem(
        read_scores(data, SPEC, KEY, limits=ImportLimits(max_rows=3))
    )
    assert "超过 5 列" in _one_problem(
        read_scores(data, SPEC, KEY, limits=ImportLimits(max_columns=5))
    )
    assert "无法读取 Excel 文件" in _one_problem(read_scores(b"not a zip", SPEC, KEY))
    assert "无法读取" in _one_problem(read_scores(_zip_without_workbook(), SPEC, KEY))
    plain = Workbook()
    buffer = io.BytesIO()
    plain.save(buffer)
    assert _one_problem(read_scores(buffer.getvalue(), SPEC, KEY)) == (
        "找不到“成绩”工作表，请使用本系统下载的本场考试成绩模板"
    )
    # a stray cell far out is refused before a huge grid is built
    far = _edit(data, lambda sheet: sheet.cell(row=5000, column=2000, value="x"))
    assert "列" in _one_problem(read_scores(far, SPEC, KEY))


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    return buffer.getvalue()


_places = st.decimals(min_value=0, max_value=1000, places=2, allow_nan=False)


@st.composite
def _exams(draw: st.DrawFn) -> tuple[SheetSpec, dict[str, Marks]]:
    full_marks = draw(st.lists(st.sampled_from([10, 50, 60, 100, 150]), min_size=1, max_size=3))
    subjects = tuple(
        Subject(f"s{i}", f"科目{i}", Decimal(mark)) for i, mark in enumerate(full_marks)
    )
    count = draw(st.integers(min_value=1, max_value=12))
    candidates = tuple(
        Candidate(f"A{n:04d}", f"考生{n}", valid_id(seq=f"{n:03d}")) for n in range(count)
    )
    marks: dict[str, Marks] = {}
    for candidate in candidates:
        if draw(st.booleans()) and draw(st.booleans()):
            marks[candidate.admission_number] = Marks(True, {})
            continue
        scores = {
            s.key: draw(st.decimals(min_value=0, max_value=s.full_mark, places=2, allow_nan=False))
            for s in subjects
        }
        marks[candidate.admission_number] = Marks(False, scores)
    return SheetSpec(draw(st.integers(1, 10**9)), "考试", subjects, candidates), marks


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exam=_exams(), as_text=st.booleans())
def test_any_valid_score_set_survives_writing_and_reading(
    exam: tuple[SheetSpec, dict[str, Marks]], as_text: bool
) -> None:
    spec, marks = exam
    data = write_template(spec, KEY, filled=marks)
    if as_text:  # the same scores typed as text, full-width: what a clerk's paste may give

        def retype(sheet: Worksheet) -> None:
            wide = str.maketrans("0123456789.", "０１２３４５６７８９．")
            for row in sheet.iter_rows(min_row=2, min_col=4, max_col=3 + len(spec.subjects)):
                for cell in row:
                    if cell.value is not None:
                        cell.value = f" {cell.value} ".translate(wide)

        data = _edit(data, retype)
    result = read_scores(data, spec, KEY)
    assert result.ok, result.problems
    assert result.by_admission() == marks


def test_the_cycle_collector_is_held_off_while_reading_and_restored() -> None:
    """Reading pauses Python's cycle collector (its full collections found nothing to free);
    pauses nest and overlap across threads, the last one switches it back on, an error too,
    and a collector that was off before is left off."""
    seen: list[bool] = []

    def foreign(numbers: Any) -> dict[str, str]:
        seen.append(gc.isenabled())
        return {}

    def stranger(sheet: Worksheet) -> None:
        sheet.append(["2025000009", "孙九", valid_id(seq="061"), 70, 40, None])

    assert gc.isenabled()
    read_scores(_filled(stranger), SPEC, KEY, foreign=foreign)
    assert seen == [False] and gc.isenabled()

    entered, release = threading.Event(), threading.Event()

    def other_import() -> None:
        with collector_paused():
            entered.set()
            release.wait(10)

    thread = threading.Thread(target=other_import)
    with collector_paused():
        thread.start()
        assert entered.wait(10)
        with collector_paused():
            assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread's pause still holds
    release.set()
    thread.join(10)
    assert gc.isenabled()

    with pytest.raises(ValueError), collector_paused():
        raise ValueError
    assert gc.isenabled()

    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
