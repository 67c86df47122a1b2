"""The error workbook (错误标注文件): the uploaded 成绩 sheet rebuilt cell for cell, each bad cell
filled red with a comment giving the message, and a 错误汇总 sheet listing every problem.

Rebuilt rather than edited: the rows keep the positions the messages name, the file is always an
xlsx whatever came in, and it carries a fresh stamp for this exam, so the clerk corrects the red
cells and imports the same file. The fresh stamp launders nothing: the reader compares every row
with the exam's own list whatever the stamp says.
"""

import io
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill, Protection

from server.services.scoresheets.result import ScoreImport
from server.services.scoresheets.spec import SCORES_SHEET, SUMMARY_SHEET, SheetSpec
from server.services.scoresheets.template import AUTHOR, add_stamp, dress_scores_sheet

_BAD = PatternFill("solid", fgColor="FFC7CE")
_BAD_FONT = Font(color="9C0006")


def _cell(value: object) -> object:
    """A value as uploaded, less the control characters an xlsx cannot hold."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return "" if value is None else value


def error_workbook(result: ScoreImport, spec: SheetSpec, key: bytes) -> bytes:
    workbook = Workbook()
    summary = workbook.active
    assert summary is not None
    summary.title = SUMMARY_SHEET
    sheet = workbook.create_sheet(SCORES_SHEET)
    for values in result.grid:
        sheet.append([_cell(v) for v in values])
    dress_scores_sheet(sheet, spec, max(len(result.grid), 1))

    by_cell: dict[tuple[int, int], list[str]] = defaultdict(list)
    for problem in result.problems:
        if problem.sheet == SCORES_SHEET and problem.row and problem.column_index:
            by_cell[(problem.row, problem.column_index)].append(problem.message)
    for (row, column), messages in by_cell.items():
        cell = sheet.cell(row=row, column=column)
        cell.fill = _BAD
        cell.font = _BAD_FONT
        cell.protection = Protection(locked=False)  # a bad candidate cell must be correctable
        cell.comment = Comment("\n".join(messages), AUTHOR, width=300, height=80)

    summary.append(
        [
            f"共{len(result.problems)}处错误；改正“{SCORES_SHEET}”工作表中标红的单元格后重新导入本文件"
        ]
    )
    summary["A1"].font = Font(bold=True)
    summary.append(["工作表", "行", "列", "错误说明"])
    for cell in summary[2]:
        cell.font = Font(bold=True)
    for problem in result.problems:
        summary.append([problem.sheet, problem.row or "", problem.column or "", problem.message])
    for letter, width in zip("ABCD", (12, 8, 18, 70), strict=True):
        summary.column_dimensions[letter].width = width
    add_stamp(workbook, spec, key)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
