"""Score sheets (成绩导入): the template an exam's scores are typed into, and its import.

Pure code, no database: the exam service builds a ``SheetSpec`` from its tables and passes the
signing key. The import path, and where the next pieces plug in::

    result = read_scores(data, spec, key, limits=..., foreign=...)   # read + validate, one pass
    if not result.ok: raise result.refusal()       # 422, details.rows; error_workbook(result, …)
    if result.digest == <digest stored with the last import>: no-op
    grade(rule, result.rows) → persist(session, exam, graded, result.digest)   # next session

``import_scores`` is that sequence with grading and persisting passed in as one callable, so the
rule "nothing is written unless every row is good" holds by construction.
"""

from collections.abc import Callable
from typing import TypeVar

from server.services.scoresheets.error_workbook import error_workbook
from server.services.scoresheets.reader import ForeignLookup, read_scores, validate
from server.services.scoresheets.result import Marks, ScoreImport, ScoreProblem, ScoreRow
from server.services.scoresheets.spec import Candidate, SheetSpec, Subject
from server.services.scoresheets.template import write_template
from server.services.spreadsheets import ImportLimits

T = TypeVar("T")

__all__ = [
    "Candidate",
    "ForeignLookup",
    "Marks",
    "ScoreImport",
    "ScoreProblem",
    "ScoreRow",
    "SheetSpec",
    "Subject",
    "error_workbook",
    "import_scores",
    "read_scores",
    "validate",
    "write_template",
]


def import_scores(
    data: bytes,
    spec: SheetSpec,
    key: bytes,
    apply: Callable[[ScoreImport], T],
    *,
    limits: ImportLimits | None = None,
    foreign: ForeignLookup | None = None,
) -> T:
    """Read and validate; raise SCORE_IMPORT_INVALID on any problem, else hand the clean import
    to ``apply`` (grade and persist in the caller's transaction; skip when the digest is known)."""
    result = read_scores(data, spec, key, limits=limits, foreign=foreign)
    if not result.ok:
        raise result.refusal()
    return apply(result)
