"""What reading a score sheet yields: parsed rows, every problem, counts and a content digest."""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple

from server.services.errors import AppError
from server.services.scoresheets.spec import canonical
from server.services.spreadsheets import ERRORS_SHOWN
from shared.errors import ErrorCode


@dataclass(frozen=True)
class ScoreProblem:
    """One problem, where the clerk finds it. ``row`` is the row number Excel shows; ``column``
    the header the clerk sees (理论（满分100）). Both are None for a problem of the whole file
    (its checksum, its size). ``column_index`` (1-based): the cell the error workbook marks."""

    sheet: str
    row: int | None
    column: str | None
    message: str
    column_index: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """The shape of ``details.rows`` in the API's 422 answer."""
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class Marks:
    """One candidate's result as typed: absent, or a score per subject key. The reader gives
    the rows that typed the same marks one shared ``Marks``: treat ``scores`` as read-only."""

    absent: bool
    scores: Mapping[str, Decimal]


class ScoreRow(NamedTuple):
    """One good row: where it is, whose it is, what it says (a tuple: one is made per row)."""

    row: int
    admission_number: str
    marks: Marks


@dataclass(frozen=True)
class ScoreImport:
    """The outcome of ``read_scores``. When ``problems`` is empty, ``rows`` holds every filled row
    of the sheet; otherwise it holds the good rows only and must not be written.

    ``digest`` is over the exam and the parsed content alone (admission-number order, scores in
    canonical form), so a file saved again, re-sorted, or typed with ８５ for 85 has the same
    digest: the caller stores it with the import and treats an equal one as a no-op."""

    exam_id: int
    rows: tuple[ScoreRow, ...]
    problems: tuple[ScoreProblem, ...]
    not_in_file: int
    grid: list[list[Any]] = field(default_factory=list, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_admission(self) -> dict[str, Marks]:
        return {r.admission_number: r.marks for r in self.rows}

    @cached_property
    def digest(self) -> str:
        lines = [str(self.exam_id)]
        tails: dict[int, str] = {}  # per shared Marks (alive with the rows): "|absent|scores"
        for _, admission, marks in sorted(self.rows, key=itemgetter(1)):
            tail = tails.get(id(marks))
            if tail is None:
                scores = ",".join([f"{k}={canonical(v)}" for k, v in sorted(marks.scores.items())])
                tail = tails[id(marks)] = f"|{marks.absent:d}|{scores}"
            lines.append(admission + tail)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def counts(self) -> dict[str, int]:
        absent = sum(1 for r in self.rows if r.marks.absent)
        return {
            "rows": len(self.rows),
            "scored": len(self.rows) - absent,
            "absent": absent,
            "not_in_file": self.not_in_file,
            "errors": len(self.problems),
        }

    def refusal(self) -> AppError:
        """SCORE_IMPORT_INVALID with ``details.rows``: the first ``ERRORS_SHOWN`` problems (the
        error workbook marks all of them) and ``details.total``."""
        total = len(self.problems)
        message = f"成绩文件有{total}处错误，未导入任何数据"
        if total > ERRORS_SHOWN:
            message += f"（以下列出前{ERRORS_SHOWN}处，全部错误见错误标注文件）"
        rows = [p.as_dict() for p in self.problems[:ERRORS_SHOWN]]
        return AppError(ErrorCode.SCORE_IMPORT_INVALID, message, {"rows": rows, "total": total})
