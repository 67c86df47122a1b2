"""录入成绩 without widgets: the grid of an exam's candidates as the server sent it, the marks
typed into it and not yet saved, and the words the page shows (counts, problems).

The server reads what was typed by the import's rules and grades; this model only keeps the
text as typed (８５, "85.0" are the server's to read) and says which rows changed.
"""

from dataclasses import dataclass, field
from typing import Any

from shared.schemas.exams import ScoreImportCounts, ScoreLine, ScoresEntry, ScoreSheetPublic

FIXED = ("准考证号", "姓名", "身份证号")
ABSENT = "缺考"
RESULT = "结果"


def _mark(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@dataclass
class ScoreGrid:
    sheet: ScoreSheetPublic | None = None
    typed: dict[int, dict[str, str]] = field(default_factory=dict)  # row → subject key → text
    absent: dict[int, bool] = field(default_factory=dict)  # row → 缺考 as ticked

    def load(self, sheet: ScoreSheetPublic) -> None:
        self.sheet, self.typed, self.absent = sheet, {}, {}

    @property
    def lines(self) -> list[ScoreLine]:
        return self.sheet.lines if self.sheet else []

    @property
    def subjects(self) -> list[Any]:
        return list(self.sheet.pass_rule.subjects) if self.sheet else []

    @property
    def editable(self) -> bool:
        return bool(self.sheet and self.sheet.may_enter)

    @property
    def locked(self) -> bool:
        return bool(self.sheet and self.sheet.locked)

    def headers(self) -> list[str]:
        subjects = [f"{s.name}（满分{s.full_mark:g}）" for s in self.subjects]
        return [*FIXED, *subjects, ABSENT, RESULT]

    def subject_column(self, column: int) -> str | None:
        """The subject key of a column, or None."""
        index = column - len(FIXED)
        subjects = self.subjects
        return subjects[index].key if 0 <= index < len(subjects) else None

    @property
    def absent_column(self) -> int:
        return len(FIXED) + len(self.subjects)

    @property
    def result_column(self) -> int:
        return self.absent_column + 1

    def text(self, row: int, column: int) -> str:
        line = self.lines[row]
        if column < len(FIXED):
            return (line.admission_number, line.name, line.id_number)[column]
        key = self.subject_column(column)
        if key is not None:
            if key in self.typed.get(row, {}):
                return self.typed[row][key]
            return _mark((line.scores or {}).get(key)) if line.entered else ""
        if column == self.result_column:
            if row in self.typed or row in self.absent:
                return "未保存"
            return line.result_label or "未录入"
        return ""

    def is_absent(self, row: int) -> bool:
        return self.absent.get(row, self.lines[row].absent)

    def tip(self, row: int) -> str:
        return "；".join(self.lines[row].reasons)

    def may_edit(self, column: int) -> bool:
        return self.editable and (
            self.subject_column(column) is not None or column == self.absent_column
        )

    def type_text(self, row: int, column: int, text: str) -> None:
        key = self.subject_column(column)
        if key is None:
            return
        line = self.lines[row]
        stored = _mark((line.scores or {}).get(key)) if line.entered else ""
        if text.strip() == stored and key in self.typed.get(row, {}):
            del self.typed[row][key]
            if not self.typed[row]:
                del self.typed[row]
        elif text.strip() != stored:
            self.typed.setdefault(row, {})[key] = text

    def tick_absent(self, row: int, absent: bool) -> None:
        if absent == self.lines[row].absent:
            self.absent.pop(row, None)
        else:
            self.absent[row] = absent

    def dirty(self, row: int) -> bool:
        return row in self.typed or row in self.absent

    def entry(self, row: int) -> ScoresEntry:
        """What the row says now (typed over stored), for the server to read and grade."""
        line = self.lines[row]
        absent = self.is_absent(row)
        scores: dict[str, Any] = {}
        for subject in self.subjects:
            typed = self.typed.get(row, {})
            if subject.key in typed:
                text = typed[subject.key].strip()
                scores[subject.key] = text or None
            elif line.entered and not absent:
                scores[subject.key] = (line.scores or {}).get(subject.key)
        if absent:
            scores = {k: v for k, v in scores.items() if k in self.typed.get(row, {}) and v}
        return ScoresEntry(absent=absent, scores=scores)

    def saved(self, row: int, line: ScoreLine) -> None:
        assert self.sheet is not None
        self.sheet.lines[row] = line
        self.typed.pop(row, None)
        self.absent.pop(row, None)

    def counts_text(self) -> str:
        if self.sheet is None:
            return ""
        c = self.sheet.counts
        text = (
            f"考生 {c['candidates']} 人：已录入 {c['entered']}（合格 {c['passed']}、"
            f"不合格 {c['failed']}、缺考 {c['absent']}），未录入 {c['missing']}"
        )
        if self.sheet.locked:
            text += "；成绩已通知，已锁定"
        elif self.sheet.refusal:
            text += f"；{self.sheet.refusal}"
        return text


def counts_message(counts: ScoreImportCounts) -> str:
    """The answer of a (dry-run) import in one paragraph for the confirmation box."""
    return (
        f"文件中共 {counts.rows} 名考生：参加考试 {counts.scored} 人，缺考 {counts.absent} 人；"
        f"合格 {counts.passed} 人，不合格 {counts.failed} 人。\n"
        f"将写入 {counts.written} 人，与已录入成绩相同 {counts.unchanged} 人，"
        f"名单中未出现在文件里的 {counts.not_in_file} 人。"
    )


def problem_rows(details: Any) -> list[tuple[str, str, str, str]]:
    """``details.rows`` of SCORE_IMPORT_INVALID as (sheet, row, column, message) texts."""
    rows = details.get("rows", []) if isinstance(details, dict) else []
    return [
        (
            str(p.get("sheet") or ""),
            "" if p.get("row") is None else str(p["row"]),
            str(p.get("column") or ""),
            str(p.get("message") or ""),
        )
        for p in rows
    ]
