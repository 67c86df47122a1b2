"""What a score sheet is about, as plain values: the exam, its subjects and its candidates.

The codec never touches the database: the caller (the exam service) builds a ``SheetSpec`` from
the exam's tables and hands it, with the signing key, to ``write_template`` and ``read_scores``.
The layout below is the one contract between the template and the reader, kept in one place.
"""

import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

SCORES_SHEET = "成绩"
NOTES_SHEET = "填写说明"
CHECK_SHEET = "模板校验"
SUMMARY_SHEET = "错误汇总"

ADMISSION_COLUMN = "准考证号"
NAME_COLUMN = "姓名"
ID_COLUMN = "身份证号"
ABSENT_COLUMN = "缺考"
CANDIDATE_COLUMNS = (ADMISSION_COLUMN, NAME_COLUMN, ID_COLUMN)

ABSENT_MARK = "是"
STAMP_LABELS = ("格式版本", "考试编号", "考试名称", "名单摘要", "签名")
FORMAT_VERSION = 1
_PURPOSE = "sgss-score-template"


@dataclass(frozen=True)
class Subject:
    """``key`` is the rule's subject key (e.g. ``theory``); ``name`` the clerk's word (理论)."""

    key: str
    name: str
    full_mark: Decimal

    @property
    def header(self) -> str:
        return f"{self.name}（满分{_plain(self.full_mark)}）"


class Candidate(NamedTuple):
    """One listed candidate as the sheet shows them (a tuple: an exam lists 20,000)."""

    admission_number: str
    name: str
    id_number: str


@dataclass(frozen=True)
class SheetSpec:
    exam_id: int
    exam_name: str
    subjects: tuple[Subject, ...]
    candidates: tuple[Candidate, ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return (*CANDIDATE_COLUMNS, *(s.header for s in self.subjects), ABSENT_COLUMN)


@lru_cache(maxsize=4096)
def _plain(value: Decimal) -> str:
    """100 → "100", 85.50 → "85.5": never an exponent, never trailing zeros. Cached: a sheet
    holds a few hundred distinct scores at most."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def canonical(value: Decimal) -> str:
    return _plain(value)


def header_key(text: object) -> str:
    """A header as compared: NFKC (full-width brackets and digits become ASCII) without spaces."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(folded.split())


def candidates_digest(candidates: tuple[Candidate, ...]) -> str:
    """SHA-256 over the candidate list in admission-number order: a template's list and the
    exam's list are the same exactly when these are equal."""
    listed = sorted(f"{c.admission_number}\t{c.name}\t{c.id_number}" for c in candidates)
    return hashlib.sha256("\n".join(listed).encode()).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """What the hidden 模板校验 sheet carries. The signature covers the other four fields, so a
    stamp copied from another exam, or a list digest edited to match an edited sheet, fails."""

    version: int
    exam_id: int
    exam_name: str
    list_digest: str
    signature: str

    @classmethod
    def issue(cls, spec: SheetSpec, key: bytes) -> "Stamp":
        digest = candidates_digest(spec.candidates)
        return cls(
            FORMAT_VERSION,
            spec.exam_id,
            spec.exam_name,
            digest,
            _sign(key, FORMAT_VERSION, spec.exam_id, spec.exam_name, digest),
        )

    def is_genuine(self, key: bytes) -> bool:
        expected = _sign(key, self.version, self.exam_id, self.exam_name, self.list_digest)
        return hmac.compare_digest(expected, self.signature)


def _sign(key: bytes, version: int, exam_id: int, exam_name: str, digest: str) -> str:
    message = json.dumps(
        [_PURPOSE, version, exam_id, exam_name, digest], ensure_ascii=False, separators=(",", ":")
    ).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
