"""Reading a filled score template: every row validated in one pass, every problem reported.

``read_scores`` opens the upload with calamine under the import limits of ``spreadsheets`` and
hands the cell grids to ``validate``, which knows nothing of file formats (the benchmark feeds it
openpyxl's grids to compare readers on the same rules).

Candidates are matched by 准考证号 against the exam's list, not against the template's own
columns: the exam is the truth, the template a form. The hidden 模板校验 stamp says whether the
form was issued for this exam and this list; a stamp of another exam stops the reading (every
row would be a stranger), any other stamp problem is one more problem among the rows.
"""

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any

from server.services.errors import AppError
from server.services.scoresheets import normalise
from server.services.scoresheets.result import Marks, ScoreImport, ScoreProblem, ScoreRow
from server.services.scoresheets.spec import (
    ABSENT_COLUMN,
    ADMISSION_COLUMN,
    CHECK_SHEET,
    FORMAT_VERSION,
    ID_COLUMN,
    NAME_COLUMN,
    SCORES_SHEET,
    STAMP_LABELS,
    Candidate,
    SheetSpec,
    Stamp,
    candidates_digest,
    header_key,
)
from server.services.spreadsheets import ImportLimits, collector_paused, open_xlsx, sheet_grid
from shared.errors import ErrorCode
from shared.idnumber import IdNumberError, normalise_id_number

Grid = list[list[Any]]
# Which of the given admission numbers belong to another exam, and its name; one query.
ForeignLookup = Callable[[Collection[str]], Mapping[str, str]]
# one combination of mark cells read: its marks, or its problems (position, column, message)
_Reading = tuple[Marks | None, tuple[tuple[int, str, str], ...]]
_BY_TYPE: _Reading = (None, ())  # see _Rows._reading
_UNREAD = object()
# ScoreRow((row, admission number, marks)) without the named tuple's Python-level __new__:
# one C call per row of the sheet
_new_score_row = partial(tuple.__new__, ScoreRow)

_TEMPLATE_HINT = "请使用本系统下载的本场考试成绩模板"


@collector_paused()
def read_scores(
    data: bytes,
    spec: SheetSpec,
    key: bytes,
    *,
    limits: ImportLimits | None = None,
    foreign: ForeignLookup | None = None,
) -> ScoreImport:
    """Read and validate an uploaded xlsx. A file that cannot be read at all (too large, not an
    xlsx, no 成绩 sheet) is one problem of the whole file, so the answer has one shape."""
    limits = limits or ImportLimits()
    try:
        workbook = open_xlsx(data, limits)
        names = workbook.sheet_names
        if SCORES_SHEET not in names:
            return _whole_file(spec, f"找不到“{SCORES_SHEET}”工作表，{_TEMPLATE_HINT}")
        grid = sheet_grid(workbook, SCORES_SHEET, limits)
        stamp = (
            sheet_grid(workbook, CHECK_SHEET, limits, nrows=10) if CHECK_SHEET in names else None
        )
    except AppError as err:
        if err.code is not ErrorCode.IMPORT_INVALID:
            raise
        return _whole_file(spec, err.message)
    return validate(grid, stamp, spec, key, foreign=foreign)


def _whole_file(spec: SheetSpec, message: str) -> ScoreImport:
    return ScoreImport(spec.exam_id, (), (ScoreProblem(SCORES_SHEET, None, None, message),), 0)


def parse_stamp(grid: Grid) -> Stamp | None:
    """The stamp from the 模板校验 sheet's label/value rows; None when it is not all there."""
    values = {normalise.text(r[0]): normalise.text(r[1]) for r in grid if len(r) >= 2}
    try:
        version, exam_id, name, digest, signature = (values[label] for label in STAMP_LABELS)
        return Stamp(int(version), int(exam_id), name, digest, signature)
    except (KeyError, ValueError):
        return None


def check_stamp(grid: Grid | None, spec: SheetSpec, key: bytes) -> tuple[ScoreProblem | None, bool]:
    """(the stamp's problem or None, whether reading must stop there)."""

    def problem(message: str) -> ScoreProblem:
        return ScoreProblem(CHECK_SHEET, None, None, message)

    if grid is None:
        return problem(f"缺少模板校验信息，{_TEMPLATE_HINT}"), False
    stamp = parse_stamp(grid)
    if stamp is None or not stamp.is_genuine(key):
        return problem(f"模板校验信息被修改或已损坏，{_TEMPLATE_HINT}"), False
    if stamp.exam_id != spec.exam_id:
        return problem(f"该模板属于其他考试（{stamp.exam_name}），{_TEMPLATE_HINT}"), True
    if stamp.version != FORMAT_VERSION:
        return problem(f"模板格式版本不受支持，{_TEMPLATE_HINT}"), False
    if stamp.list_digest != candidates_digest(spec.candidates):
        return problem("下载模板后本场考试的考生名单已变更，请重新下载成绩模板"), False
    return None, False


@dataclass(frozen=True)
class _Columns:
    """0-based positions of the template's columns in the uploaded header."""

    admission: int
    name: int
    id_number: int
    absent: int
    subjects: tuple[tuple[int, str, str, Decimal], ...]  # position, key, header, full mark
    width: int


def map_header(header: list[Any], spec: SheetSpec) -> tuple[_Columns | None, list[ScoreProblem]]:
    """Columns by header text, so a clerk's reordering is harmless; a missing, repeated or
    unknown header is a problem, and no row is read under a header that is wrong."""
    wanted: dict[str, str] = {}  # header key → the template's header
    for column in (ADMISSION_COLUMN, NAME_COLUMN, ID_COLUMN, ABSENT_COLUMN):
        wanted[header_key(column)] = column
    for subject in spec.subjects:
        wanted[header_key(subject.header)] = subject.header
        wanted.setdefault(header_key(subject.name), subject.header)
    found: dict[str, int] = {}
    problems: list[ScoreProblem] = []
    for index, cell in enumerate(header):
        typed = header_key(cell)
        if not typed:
            continue
        if typed not in wanted:
            message = f"无法识别的列“{normalise.text(cell)}”，请勿修改模板的表头"
            problems.append(ScoreProblem(SCORES_SHEET, 1, normalise.text(cell), message, index + 1))
            continue
        column = wanted[typed]
        if column in found:
            message = f"“{column}”列重复（第{found[column] + 1}列已有）"
            problems.append(ScoreProblem(SCORES_SHEET, 1, column, message, index + 1))
            continue
        found[column] = index
    for column in spec.headers:
        if column not in found:
            problems.append(ScoreProblem(SCORES_SHEET, 1, column, f"缺少“{column}”列"))
    if problems:
        return None, problems
    subjects = tuple((found[s.header], s.key, s.header, s.full_mark) for s in spec.subjects)
    width = max(found.values()) + 1
    return _Columns(
        found[ADMISSION_COLUMN],
        found[NAME_COLUMN],
        found[ID_COLUMN],
        found[ABSENT_COLUMN],
        subjects,
        width,
    ), []


def _id_problem(value: object, expected: str) -> str | None:
    """None when the cell is the candidate's ID number as the ID rules normalise it."""
    if type(value) is str and value == expected:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "身份证号须按文本格式填写（数字格式会丢失末几位），请勿修改考生信息"
    typed = normalise.text(value)
    if typed == expected:
        return None
    try:
        if normalise_id_number(typed) == expected:
            return None
    except IdNumberError as err:
        return f"{err}，请勿修改考生信息"
    return "身份证号与考试名单不符，请勿修改考生信息"


@collector_paused()
def validate(
    grid: Grid,
    stamp_grid: Grid | None,
    spec: SheetSpec,
    key: bytes,
    *,
    foreign: ForeignLookup | None = None,
) -> ScoreImport:
    """Every row checked, every problem collected; see the module docstring."""
    problems: list[ScoreProblem] = []
    stamp_problem, stop = check_stamp(stamp_grid, spec, key)
    if stamp_problem is not None:
        problems.append(stamp_problem)
    if stop:
        return ScoreImport(spec.exam_id, (), tuple(problems), 0, grid)
    if not grid:
        problems.append(ScoreProblem(SCORES_SHEET, None, None, "成绩工作表为空"))
        return ScoreImport(spec.exam_id, (), tuple(problems), 0, grid)
    columns, header_problems = map_header(grid[0], spec)
    if columns is None:
        return ScoreImport(spec.exam_id, (), tuple(problems + header_problems), 0, grid)
    rows = _Rows(spec, columns, problems)
    rows.check_all(grid[1:])
    rows.name_strangers(foreign)
    problems.sort(key=lambda p: (p.sheet == SCORES_SHEET, p.row or 0, p.column_index or 0))
    if not rows.parsed and not problems:
        problems.append(ScoreProblem(SCORES_SHEET, None, None, "成绩工作表没有填写任何考生的成绩"))
    not_in_file = len(rows.listed) - len(rows.seen)
    return ScoreImport(spec.exam_id, tuple(rows.parsed), tuple(problems), not_in_file, grid)


class _Rows:
    """The one pass over the data rows, kept lean: at 20,000 rows every allocation per row
    shows in the import's rate (bench/scores.py).

    The common row — a listed candidate, seen once, name and ID number exactly as listed — is
    recognised with one dict lookup and two comparisons; anything else takes the careful path
    (``_candidate``), which says what is wrong. The mark cells (subjects and 缺考) are read once
    per distinct combination: a sheet holds a few thousand at most, so each combination's
    reading — its ``Marks``, shared by every row that typed the same, or its problems — is
    remembered (``_reading``). Each cell's reading is remembered too, per column, for the
    combinations not seen before."""

    def __init__(self, spec: SheetSpec, columns: _Columns, problems: list[ScoreProblem]) -> None:
        self.columns = columns
        self.problems = problems
        self.listed: dict[str, Candidate] = {c.admission_number: c for c in spec.candidates}
        self.seen: dict[str, int] = {}
        self.strangers: dict[str, list[int]] = {}  # admission number → rows
        self.parsed: list[ScoreRow] = []
        self.subjects: list[tuple[int, str, str, Decimal, dict[tuple[type, object], Any]]] = [
            (index, key, header, full_mark, {})
            for index, key, header, full_mark in columns.subjects
        ]
        self.absent_read: dict[tuple[type, object], bool | str] = {}
        # the mark cells of a row, subjects then 缺考, as one tuple (at least two cells)
        self.mark_cells = itemgetter(*(s[0] for s in columns.subjects), columns.absent)
        self.readings: dict[tuple[Any, ...], _Reading] = {}
        self.meanings: dict[tuple[Any, ...], Marks] = {}  # (absent, *scores) → shared Marks
        self.typed_readings: dict[tuple[tuple[Any, ...], tuple[type, ...]], _Reading] = {}

    def problem(self, number: int, index: int, column: str, message: str) -> None:
        self.problems.append(ScoreProblem(SCORES_SHEET, number, column, message, index + 1))

    def check_all(self, rows: list[list[Any]]) -> None:
        """Every data row; ``rows`` starts at the sheet's row 2."""
        columns = self.columns
        width, at_admission = columns.width, columns.admission
        at_name, at_id = columns.name, columns.id_number
        listed, seen, parsed = self.listed.get, self.seen, self.parsed
        mark_cells, readings, problem = self.mark_cells, self.readings, self.problem
        new_row = _new_score_row
        for number, row in enumerate(rows, start=2):
            values = row if len(row) >= width else [*row, *[None] * (width - len(row))]
            admission = values[at_admission]
            admission = admission.strip() if type(admission) is str else normalise.text(admission)
            candidate = listed(admission)
            if (
                candidate is not None
                and admission not in seen
                and values[at_name] == candidate.name
                and values[at_id] == candidate.id_number
            ):
                seen[admission] = number
                good = True
            else:
                if not admission and all(_cell_text(v) == "" for v in values[:width]):
                    continue
                before = len(self.problems)
                good = self._candidate(number, admission, values) is not None
                good = good and len(self.problems) == before
            cells = mark_cells(values)
            reading = readings.get(cells)
            if reading is None or reading is _BY_TYPE:
                reading = self._reading(cells)
            marks, why = reading
            if why:
                for index, column, message in why:
                    problem(number, index, column, message)
            elif good:
                parsed.append(new_row((number, admission, marks)))

    def _candidate(self, number: int, admission: str, values: list[Any]) -> Candidate | None:
        """The listed candidate of a row seen for the first time, with its name and ID number as
        listed; None (and a problem, or a stranger to name later) otherwise."""
        columns = self.columns
        if not admission:
            self.problem(
                number, columns.admission, ADMISSION_COLUMN, "准考证号必填，请勿修改考生信息"
            )
            return None
        if admission in self.seen:
            message = f"与第{self.seen[admission]}行重复（准考证号相同）"
            self.problem(number, columns.admission, ADMISSION_COLUMN, message)
            return None
        candidate = self.listed.get(admission)
        if candidate is None:
            self.strangers.setdefault(admission, []).append(number)
            return None
        self.seen[admission] = number
        if _cell_text(values[columns.name]) != candidate.name:
            self.problem(number, columns.name, NAME_COLUMN, "姓名与考试名单不符，请勿修改考生信息")
        why = _id_problem(values[columns.id_number], candidate.id_number)
        if why is not None:
            self.problem(number, columns.id_number, ID_COLUMN, why)
        return candidate

    def _reading(self, cells: tuple[Any, ...]) -> "_Reading":
        """The reading of cells not seen before, remembered. Cells are compared by value, and
        ``True == 1 == 1.0``: where a cell is 0 or 1 (a number or a tick box) the reading is
        remembered under the cells with their types, and the plain key says to look there."""
        if 0 in cells or 1 in cells:  # by value: a 0/1 number or a tick box, never text
            self.readings[cells] = _BY_TYPE
            typed = (cells, tuple(map(type, cells)))
            reading = self.typed_readings.get(typed)
            if reading is None:
                reading = self.typed_readings[typed] = self._read_marks(cells)
            return reading
        reading = self.readings[cells] = self._read_marks(cells)
        return reading

    def _read_marks(self, cells: tuple[Any, ...]) -> "_Reading":
        """One combination of mark cells: its ``Marks``, or its problems (position, column,
        message) — the 缺考 cell's, then each subject's in template order. Combinations that
        mean the same (85 and "８５") get the same ``Marks``: what is done per distinct marks
        downstream (grading, the digest) is then done once."""
        why: list[tuple[int, str, str]] = []
        absent = self._absent(cells[-1])
        if type(absent) is str:
            why.append((self.columns.absent, ABSENT_COLUMN, absent))
        scores: dict[str, Decimal] = {}
        missing: list[tuple[int, str]] = []
        for (index, key, header, full_mark, read), cell in zip(self.subjects, cells, strict=False):
            value = read.get((type(cell), cell), _UNREAD)
            if value is _UNREAD:
                value = read[(type(cell), cell)] = normalise.score(cell, full_mark)
            if type(value) is Decimal:
                if absent is True:
                    why.append((index, header, "已标记缺考，不应填写成绩"))
                else:
                    scores[key] = value
            elif value is None:
                missing.append((index, header))
            else:
                why.append((index, header, value))
        if missing and absent is False:
            why.extend(self._missing(missing))
        if why:
            return None, tuple(why)
        meaning = (absent, *scores.values())  # the subjects in template order
        marks = self.meanings.get(meaning)
        if marks is None:
            marks = self.meanings[meaning] = Marks(absent is True, scores)
        return marks, ()

    def _absent(self, cell: object) -> bool | str:
        cache_key = (type(cell), cell)
        absent = self.absent_read.get(cache_key)
        if absent is None:
            absent = self.absent_read[cache_key] = normalise.absent(cell)
        return absent

    def _missing(self, missing: list[tuple[int, str]]) -> list[tuple[int, str, str]]:
        """A row not absent with blank subjects: every subject blank is one problem."""
        if len(missing) == len(self.subjects):
            index, header = missing[0]
            return [(index, header, f"未填写成绩；缺考请在“{ABSENT_COLUMN}”列填“是”")]
        return [(index, header, "缺少该科目成绩") for index, header in missing]

    def name_strangers(self, foreign: ForeignLookup | None) -> None:
        """Admission numbers not on this exam's list: one lookup says which are another exam's."""
        if not self.strangers:
            return
        elsewhere = foreign(list(self.strangers)) if foreign else {}
        index = self.columns.admission
        for admission, numbers in self.strangers.items():
            exam = elsewhere.get(admission)
            if exam:
                message = f"该考生属于其他考试（{exam}），不在本场考试名单中"
            else:
                message = f"准考证号“{admission}”不在本场考试名单中"
            for number in numbers:
                self.problem(number, index, ADMISSION_COLUMN, message)


def _cell_text(value: object) -> str:
    """``normalise.text`` with the common case (a string, or nothing) first."""
    if type(value) is str:
        return value.strip()
    return normalise.text(value)
