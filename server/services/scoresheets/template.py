"""The score template (成绩导入模板): an xlsx the clerk downloads, fills and imports.

Sheets: 成绩 (header on row 1, one row per candidate with 准考证号/姓名/身份证号 prefilled and
locked, one unlocked column per subject, an unlocked 缺考 column with a 是 drop-down), 填写说明, and
the very hidden 模板校验 stamp (``spec.Stamp``) that the reader checks. The sheet protection has no
password: it keeps a slip of the hand off the candidate columns, it is not a lock; the stamp and
the reader's comparison with the exam's list are what refuse an edited or foreign template.
"""

import io
from collections.abc import Mapping
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from server.services.scoresheets.result import Marks
from server.services.scoresheets.spec import (
    ABSENT_COLUMN,
    ABSENT_MARK,
    CANDIDATE_COLUMNS,
    CHECK_SHEET,
    NOTES_SHEET,
    SCORES_SHEET,
    STAMP_LABELS,
    SheetSpec,
    Stamp,
    canonical,
)

_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_LOCKED_FILL = PatternFill("solid", fgColor="F2F2F2")
_UNLOCKED = Protection(locked=False)
_WIDTHS = (16, 12, 22)
AUTHOR = "SGSS"


def write_template(
    spec: SheetSpec, key: bytes, *, filled: Mapping[str, Marks] | None = None
) -> bytes:
    """The template for ``spec``; ``filled`` prefills marks already known (a correction round,
    or tests writing a file as a clerk would)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = SCORES_SHEET
    sheet.append(list(spec.headers))
    filled = filled or {}
    for candidate in spec.candidates:
        marks = filled.get(candidate.admission_number)
        row: list[object] = [candidate.admission_number, candidate.name, candidate.id_number]
        if marks is None:
            row += [None] * (len(spec.subjects) + 1)
        else:
            row += [_number(marks.scores.get(s.key)) for s in spec.subjects]
            row.append(ABSENT_MARK if marks.absent else None)
        sheet.append(row)
    dress_scores_sheet(sheet, spec, len(spec.candidates) + 1)
    _write_notes(workbook.create_sheet(NOTES_SHEET), spec)
    add_stamp(workbook, spec, key)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number(value: Decimal | None) -> int | Decimal | None:
    """Whole scores as integers, so the cell shows 85 rather than 85.0 when opened."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else value


def dress_scores_sheet(sheet: Worksheet, spec: SheetSpec, last_row: int) -> None:
    """Header style, widths, text format and locking of the candidate columns, unlocked score
    and 缺考 cells with their validations, frozen header; also used by the error workbook."""
    subjects_from = len(CANDIDATE_COLUMNS) + 1
    absent_column = subjects_from + len(spec.subjects)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
    for index, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for index, subject in enumerate(spec.subjects, start=subjects_from):
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(subject.header) * 2)
        note = f"填写0至{canonical(subject.full_mark)}之间的成绩，最多两位小数；缺考者留空"
        sheet.cell(row=1, column=index).comment = Comment(note, AUTHOR)
    sheet.column_dimensions[get_column_letter(absent_column)].width = 8
    sheet.cell(row=1, column=absent_column).comment = Comment(
        f"缺考者填“{ABSENT_MARK}”（可从下拉列表选择），参加考试者留空", AUTHOR
    )
    for row in sheet.iter_rows(min_row=2, max_row=last_row):
        for cell in row[: len(CANDIDATE_COLUMNS)]:
            cell.number_format = "@"
            cell.fill = _LOCKED_FILL
        for cell in row[len(CANDIDATE_COLUMNS) : absent_column]:
            cell.protection = _UNLOCKED
    if last_row >= 2:
        for index, subject in enumerate(spec.subjects, start=subjects_from):
            letter = get_column_letter(index)
            score_rule = DataValidation(
                type="decimal",
                operator="between",
                formula1="0",
                formula2=canonical(subject.full_mark),
                allow_blank=True,
                errorStyle="warning",
                error=f"成绩应在0至{canonical(subject.full_mark)}之间",
            )
            score_rule.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(score_rule)
        letter = get_column_letter(absent_column)
        absent_rule = DataValidation(
            type="list", formula1=f'"{ABSENT_MARK}"', allow_blank=True, errorStyle="warning"
        )
        absent_rule.error = f"缺考请填“{ABSENT_MARK}”，否则留空"
        absent_rule.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(absent_rule)
    sheet.freeze_panes = "D2"
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widths may still be changed
    sheet.protection.formatCells = False


def _write_notes(sheet: Worksheet, spec: SheetSpec) -> None:
    subjects = "、".join(f"{s.name}（满分{canonical(s.full_mark)}）" for s in spec.subjects)
    lines = [
        [f"{spec.exam_name} 成绩导入模板"],
        [],
        [f"1. 在“{SCORES_SHEET}”工作表中逐行填写各科成绩：{subjects}。"],
        ["2. 成绩填0至满分之间的数字，最多两位小数；全角数字、文本格式的数字均可识别。"],
        [f"3. 缺考者在“{ABSENT_COLUMN}”列填“{ABSENT_MARK}”，成绩留空；参加考试者此列留空。"],
        ["4. 准考证号、姓名、身份证号为系统预填，请勿修改；不导入的考生可整行删除。"],
        ["5. 请勿修改表头、工作表名称，不要复制其他考试的模板。"],
        ["6. 导入时逐行检查，任一行有误则不导入任何数据。"],
        ["   可下载标出错误单元格的文件，改正标红的单元格后重新导入该文件。"],
        ["7. 同一文件重复导入不会重复记录成绩。"],
    ]
    for line in lines:
        sheet.append(line)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 100


def add_stamp(workbook: Workbook, spec: SheetSpec, key: bytes) -> None:
    """The very hidden 模板校验 sheet: label/value rows, all text (an exam id is not a float)."""
    stamp = Stamp.issue(spec, key)
    sheet = workbook.create_sheet(CHECK_SHEET)
    values = (stamp.version, stamp.exam_id, stamp.exam_name, stamp.list_digest, stamp.signature)
    for label, value in zip(STAMP_LABELS, values, strict=True):
        sheet.append([label, str(value)])
        sheet.cell(row=sheet.max_row, column=2).number_format = "@"
    sheet.protection.sheet = True
    sheet.sheet_state = "veryHidden"
