"""Screening against the local watch list (本地比对名单) imported by the administrator."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.db.approval_models import WatchListEntry
from server.db.session import reading_connection
from server.services.screening.base import Finding, PersonQuery, distinct
from shared.approvals import ScreeningCategory, ScreeningOutcome


def _describe(entries: list[Any]) -> str:
    parts = []
    for entry in sorted(entries, key=lambda e: (e.listed_date is None, e.listed_date, e.source)):
        listed = entry.listed_date.isoformat() if entry.listed_date else "不详"
        parts.append(f"来源：{entry.source}，列入日期：{listed}")
    return "；".join(parts)


_LISTED = select(
    WatchListEntry.id_number,
    WatchListEntry.category,
    WatchListEntry.source,
    WatchListEntry.listed_date,
).where(WatchListEntry.id_number.in_(bindparam("spellings", expanding=True)))
"""Built once: every screening run asks it, and building it costs more than answering it. Plain
rows of what a finding says: nothing else is read, and loading entries as objects of the
session cost more than the query."""


class WatchListProvider:
    """A person is a hit in a category when the watch list holds their ID number there."""

    name = "watchlist"

    def __init__(self, session: Session) -> None:
        self._session = session

    def check(self, persons: Sequence[PersonQuery]) -> list[Finding]:
        queries = distinct(persons)
        if not queries:
            return []
        keys = [q.id_number for q in queries]
        spellings = keys + [k.lower() for k in keys if k.endswith("X")]
        listed: dict[tuple[str, str], list[Any]] = {}
        # the list as this transaction has it (its pending changes flushed, as a query would)
        rows = reading_connection(self._session).execute(_LISTED, {"spellings": spellings})
        for entry in rows:
            listed.setdefault((entry.id_number.upper(), entry.category), []).append(entry)
        findings = []
        for query in queries:
            for category in ScreeningCategory:
                entries = listed.get((query.id_number, category.value))
                if entries:
                    findings.append(
                        Finding(query.id_number, category, ScreeningOutcome.hit, _describe(entries))
                    )
                else:
                    findings.append(Finding(query.id_number, category, ScreeningOutcome.clear))
        return findings
