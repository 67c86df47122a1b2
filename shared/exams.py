"""Guard exams: pass rules (成绩合格标准) as data, the one grading function, and the vocabulary
of exams and the enrolment pipeline (docs/exams.md; docs/glossary.md: Pass rule).

A pass rule lists the subjects of an exam, each with its full mark and, optionally, its own pass
mark, and optionally a pass mark for the total. A candidate passes when every subject that has a
pass mark reaches it and, if the rule has one, the total reaches the total's. ``grade`` is the
only place that decides; the server grades with it and the desk shows what the server says.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.enums import LabelledEnum

MAX_MARK = 1000


class ExamResult(LabelledEnum):
    passed = ("passed", "合格")
    failed = ("failed", "不合格")
    absent = ("absent", "缺考")


class ExamStatus(LabelledEnum):
    """An exam's life: a draft is edited and filled, publishing freezes its candidate list and
    notifies them; a cancelled exam frees its candidates for another one."""

    draft = ("draft", "未发布")
    published = ("published", "已发布")
    cancelled = ("cancelled", "已取消")


class EnrolmentStatus(LabelledEnum):
    """Where a guard-exam enrolment stands in the pipeline (考试报名 list). One function on the
    server decides it (``server/services/exams/status.py``); see docs/exams.md for each rule."""

    screening = ("screening", "待背景审查")
    fingerprint = ("fingerprint", "待录入指纹")
    payment = ("payment", "待缴费")
    in_review = ("in_review", "审批中")
    awaiting_exam = ("awaiting_exam", "待安排考试")
    scheduled = ("scheduled", "待考试")
    awaiting_scores = ("awaiting_scores", "待录入成绩")
    failed = ("failed", "未通过")
    certificate_review = ("certificate_review", "待制证审批")
    certificate_refused = ("certificate_refused", "不予制证")  # its 制证审批 said 不同意
    awaiting_print = ("awaiting_print", "待制证")
    issued = ("issued", "已发证")
    returned = ("returned", "已退回申请人")
    withdrawn = ("withdrawn", "已撤回")


Mark = Annotated[float, Ge(0), Le(MAX_MARK)]
RuleKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class SubjectRule(BaseModel):
    """One subject (科目): its key (a template column), Chinese name, full and pass marks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: RuleKey
    name: str = Field(min_length=1, max_length=20)
    full_mark: Mark = Field(gt=0)
    pass_mark: Mark | None = None

    @model_validator(mode="after")
    def _pass_within_full(self) -> "SubjectRule":
        if self.pass_mark is not None and self.pass_mark > self.full_mark:
            raise ValueError(f"科目“{self.name}”的合格分数不能高于满分")
        return self


class PassRule(BaseModel):
    """成绩合格标准: subjects in template order, and an optional pass mark for the total."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: RuleKey
    name: str = Field(min_length=1, max_length=100)
    subjects: tuple[SubjectRule, ...] = Field(min_length=1, max_length=10)
    total_pass_mark: Mark | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "PassRule":
        keys = [s.key for s in self.subjects]
        if len(set(keys)) != len(keys):
            raise ValueError("科目代码不能重复")
        names = [s.name for s in self.subjects]
        if len(set(names)) != len(names):
            raise ValueError("科目名称不能重复")
        if self.total_pass_mark is None and all(s.pass_mark is None for s in self.subjects):
            raise ValueError("须至少规定一个科目的合格分数或总分合格分数")
        if self.total_pass_mark is not None and self.total_pass_mark > self.full_total:
            raise ValueError("总分合格分数不能高于各科满分之和")
        return self

    @property
    def full_total(self) -> float:
        return float(sum(Decimal(str(s.full_mark)) for s in self.subjects))

    def describe(self) -> str:
        """One line for notices and lists: ``理论 100 分（60 分合格）、实操 100 分``."""
        parts = [
            f"{s.name} {_mark(s.full_mark)} 分"
            + (f"（{_mark(s.pass_mark)} 分合格）" if s.pass_mark is not None else "")
            for s in self.subjects
        ]
        text = "、".join(parts)
        if self.total_pass_mark is not None:
            text += f"，总分 {_mark(self.total_pass_mark)} 分合格"
        return text


class ScoreError(ValueError):
    """Scores that cannot be graded by the rule; the message is for the clerk."""


@dataclass(frozen=True)
class Grade:
    result: ExamResult
    total: float | None
    reasons: tuple[str, ...]
    """Why not 合格 (empty when passed), in Chinese, one per failing subject or total."""


def _mark(value: float) -> str:
    return f"{value:g}"


def grade(rule: PassRule, scores: Mapping[str, float | None], *, absent: bool) -> Grade:
    """The result of one candidate under ``rule``.

    ``scores`` maps subject keys to marks. An absent candidate has no marks; one who sat the
    exam has a mark for every subject, within 0 … full mark. Anything else raises
    ``ScoreError`` (the import and the grid report it; nothing is graded from it).
    """
    given = {k: v for k, v in scores.items() if v is not None}
    unknown = sorted(set(scores) - {s.key for s in rule.subjects})
    if unknown:
        raise ScoreError(f"成绩合格标准中没有科目：{'、'.join(unknown)}")
    if absent:
        if given:
            raise ScoreError("缺考的考生不能有成绩")
        return Grade(ExamResult.absent, None, ("缺考",))
    missing = [s.name for s in rule.subjects if s.key not in given]
    if missing:
        raise ScoreError(f"缺少科目成绩：{'、'.join(missing)}")
    reasons: list[str] = []
    total = Decimal(0)
    for subject in rule.subjects:
        mark = given[subject.key]
        if not 0 <= mark <= subject.full_mark:
            raise ScoreError(f"{subject.name}成绩应在 0 到 {_mark(subject.full_mark)} 之间")
        total += Decimal(str(mark))
        if subject.pass_mark is not None and mark < subject.pass_mark:
            reasons.append(
                f"{subject.name} {_mark(mark)} 分，低于合格分数 {_mark(subject.pass_mark)} 分"
            )
    total_value = float(total)
    if rule.total_pass_mark is not None and total_value < rule.total_pass_mark:
        reasons.append(
            f"总分 {_mark(total_value)} 分，低于合格分数 {_mark(rule.total_pass_mark)} 分"
        )
    result = ExamResult.failed if reasons else ExamResult.passed
    return Grade(result, total_value, tuple(reasons))


def parse_rules(data: Any) -> list[PassRule]:
    """The rules of a ``pass_rules.yaml`` document (``{"rules": [...]}``), keys unique."""
    if not isinstance(data, Mapping) or not isinstance(data.get("rules"), list):
        raise ValueError("成绩合格标准文件须有 rules 列表")
    rules = [PassRule.model_validate(item) for item in data["rules"]]
    keys = [r.key for r in rules]
    if len(set(keys)) != len(keys):
        raise ValueError("成绩合格标准的代码不能重复")
    return rules
