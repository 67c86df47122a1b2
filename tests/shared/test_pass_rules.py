"""Pass rules and grading: properties that hold for every rule and every set of marks."""

from importlib import resources

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.exams import ExamResult, PassRule, ScoreError, SubjectRule, grade, parse_rules

marks = st.integers(min_value=0, max_value=2000).map(lambda n: n / 2)  # 0 … 1000 in halves


@st.composite
def rules(draw: st.DrawFn) -> PassRule:
    count = draw(st.integers(min_value=1, max_value=4))
    subjects = []
    for index in range(count):
        full = draw(st.integers(min_value=1, max_value=200))
        has_pass = draw(st.booleans())
        subjects.append(
            SubjectRule(
                key=f"s{index}",
                name=f"科目{index}",
                full_mark=full,
                pass_mark=draw(st.integers(min_value=0, max_value=full)) if has_pass else None,
            )
        )
    total_full = sum(s.full_mark for s in subjects)
    needs_total = all(s.pass_mark is None for s in subjects)
    total = None
    if needs_total or draw(st.booleans()):
        total = draw(st.integers(min_value=0, max_value=int(total_full)))
    return PassRule(key="r", name="规则", subjects=tuple(subjects), total_pass_mark=total)


@st.composite
def rule_and_scores(draw: st.DrawFn) -> tuple[PassRule, dict[str, float]]:
    rule = draw(rules())
    scores = {
        s.key: draw(st.integers(min_value=0, max_value=int(s.full_mark) * 2)) / 2
        for s in rule.subjects
    }
    return rule, scores


def _meets(rule: PassRule, scores: dict[str, float]) -> bool:
    """The rule restated plainly, to hold ``grade`` to."""
    each = all(s.pass_mark is None or scores[s.key] >= s.pass_mark for s in rule.subjects)
    total = sum(scores.values())
    return each and (rule.total_pass_mark is None or total >= rule.total_pass_mark)


@given(rule_and_scores())
def test_grade_passes_exactly_when_every_mark_meets_the_rule(case) -> None:
    rule, scores = case
    result = grade(rule, scores, absent=False)
    assert (result.result == ExamResult.passed) == _meets(rule, scores)
    assert (result.result == ExamResult.passed) == (result.reasons == ())
    assert result.total == pytest.approx(sum(scores.values()))


@given(rule_and_scores(), st.data())
def test_raising_a_mark_never_turns_a_pass_into_a_fail(case, data) -> None:
    rule, scores = case
    subject = data.draw(st.sampled_from(rule.subjects))
    higher = dict(scores, **{subject.key: subject.full_mark})
    if grade(rule, scores, absent=False).result == ExamResult.passed:
        assert grade(rule, higher, absent=False).result == ExamResult.passed


@given(rules())
def test_full_marks_pass_and_an_absent_candidate_is_absent(rule: PassRule) -> None:
    full = {s.key: s.full_mark for s in rule.subjects}
    assert grade(rule, full, absent=False).result == ExamResult.passed
    absent = grade(rule, {}, absent=True)
    assert absent.result == ExamResult.absent and absent.total is None
    with pytest.raises(ScoreError, match="缺考"):
        grade(rule, full, absent=True)


@given(rule_and_scores(), st.data())
def test_a_missing_unknown_or_out_of_range_mark_is_refused(case, data) -> None:
    rule, scores = case
    subject = data.draw(st.sampled_from(rule.subjects))
    with pytest.raises(ScoreError, match="缺少"):
        grade(rule, {k: v for k, v in scores.items() if k != subject.key}, absent=False)
    with pytest.raises(ScoreError, match="没有科目"):
        grade(rule, {**scores, "unknown": 1}, absent=False)
    over = data.draw(marks)
    assume(over > subject.full_mark)
    with pytest.raises(ScoreError, match="之间"):
        grade(rule, {**scores, subject.key: over}, absent=False)


def test_reasons_name_each_failing_subject_and_the_total() -> None:
    rule = PassRule(
        key="r",
        name="规则",
        subjects=(
            SubjectRule(key="theory", name="理论", full_mark=100, pass_mark=60),
            SubjectRule(key="practice", name="实操", full_mark=100, pass_mark=60),
        ),
        total_pass_mark=130,
    )
    result = grade(rule, {"theory": 59.5, "practice": 70}, absent=False)
    assert result.result == ExamResult.failed
    assert result.reasons == (
        "理论 59.5 分，低于合格分数 60 分",
        "总分 129.5 分，低于合格分数 130 分",
    )
    assert grade(rule, {"theory": 60, "practice": 70}, absent=False).result == ExamResult.passed
    assert rule.describe() == "理论 100 分（60 分合格）、实操 100 分（60 分合格），总分 130 分合格"


@pytest.mark.parametrize(
    ("subjects", "total", "message"),
    [
        ([{"key": "a", "name": "理论", "full_mark": 100}], None, "至少规定"),
        ([{"key": "a", "name": "理论", "full_mark": 100, "pass_mark": 101}], None, "高于满分"),
        ([{"key": "a", "name": "理论", "full_mark": 100}], 101, "满分之和"),
        (
            [
                {"key": "a", "name": "理论", "full_mark": 100, "pass_mark": 1},
                {"key": "a", "name": "实操", "full_mark": 100},
            ],
            None,
            "代码不能重复",
        ),
    ],
)
def test_inconsistent_rules_are_refused(subjects, total, message) -> None:
    with pytest.raises(ValidationError, match=message):
        PassRule(key="r", name="规则", subjects=subjects, total_pass_mark=total)


def test_the_shipped_rules_parse_and_include_theory_and_practice_at_60() -> None:
    text = resources.files("resources").joinpath("exams", "pass_rules.yaml").read_text("utf-8")
    shipped = {rule.key: rule for rule in parse_rules(yaml.safe_load(text))}
    standard = shipped["theory_practice_60"]
    assert [(s.name, s.full_mark, s.pass_mark) for s in standard.subjects] == [
        ("理论", 100, 60),
        ("实操", 100, 60),
    ]
    assert shipped["total_120"].total_pass_mark == 120
