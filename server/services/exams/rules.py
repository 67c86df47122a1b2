"""Pass rules (成绩合格标准): shipped as data in ``resources/exams/pass_rules.yaml``, kept in the
database (seeded by ``init-db``), offered when an exam is created and snapshotted into it."""

from datetime import datetime
from functools import cache
from importlib import resources

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.exam_models import PassRuleRow
from shared.exams import PassRule, parse_rules


@cache
def shipped_rules() -> tuple[PassRule, ...]:
    text = resources.files("resources").joinpath("exams", "pass_rules.yaml").read_text("utf-8")
    return tuple(parse_rules(yaml.safe_load(text)))


def seed_rules(session: Session, *, now: datetime) -> int:
    """Add the shipped rules whose key the database does not have yet (no commit). A rule
    already stored is left as it is: a site may have renamed or retired it."""
    have = set(session.scalars(select(PassRuleRow.key)))
    added = 0
    for rule in shipped_rules():
        if rule.key in have:
            continue
        session.add(
            PassRuleRow(
                key=rule.key,
                name=rule.name,
                content=rule.model_dump(mode="json"),
                enabled=True,
                created_at=now,
                updated_at=now,
            )
        )
        added += 1
    session.flush()
    return added


def rule_of(row: PassRuleRow) -> PassRule:
    return PassRule.model_validate(row.content)


def list_rules(session: Session, *, enabled_only: bool = True) -> list[PassRuleRow]:
    stmt = select(PassRuleRow).order_by(PassRuleRow.id)
    if enabled_only:
        stmt = stmt.where(PassRuleRow.enabled.is_(True))
    return list(session.scalars(stmt))
