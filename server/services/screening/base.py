"""The one interface every screening source answers to, and the values it trades in.

A provider is asked about a batch of people and answers with exactly one ``Finding`` per distinct
ID number and category (all of ``ScreeningCategory``). A source that cannot answer for some of
them says so with outcome ``error``; it never raises for an unreachable or confused source, so
one failing database cannot hide the answers of the others.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.approvals import ScreeningCategory, ScreeningOutcome


@dataclass(frozen=True)
class PersonQuery:
    id_number: str
    name: str


@dataclass(frozen=True)
class Finding:
    id_number: str
    category: ScreeningCategory
    outcome: ScreeningOutcome
    detail: str | None = None


class ScreeningProvider(Protocol):
    name: str

    def check(self, persons: Sequence[PersonQuery]) -> list[Finding]: ...


def id_key(id_number: str) -> str:
    """The form ID numbers are compared in: trimmed, with a lowercase check character ``x``
    upper-cased (both spellings appear on paper forms and in older lists)."""
    return id_number.strip().upper()


def distinct(persons: Iterable[PersonQuery]) -> list[PersonQuery]:
    """One query per ID number, in first-seen order: the applicant is often also the legal
    representative, and a source should be asked about each person once."""
    seen: dict[str, PersonQuery] = {}
    for person in persons:
        key = id_key(person.id_number)
        if key not in seen:
            seen[key] = PersonQuery(key, person.name)
    return list(seen.values())


def uniform(
    persons: Sequence[PersonQuery], outcome: ScreeningOutcome, detail: str | None
) -> list[Finding]:
    """The same answer for every person and category (e.g. a source that did not respond)."""
    return [
        Finding(person.id_number, category, outcome, detail)
        for person in distinct(persons)
        for category in ScreeningCategory
    ]
