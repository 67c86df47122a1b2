"""Working days on the Chinese calendar: weekends and official holidays do not count, adjusted
working weekends (调休) do. Time limits, overdue warnings and timeliness statistics use only this.

Source: the ``chinese-calendar`` package, corrected or extended by year-stamped override files in
``resources/calendar`` (see the README there).
"""

import csv
import io
import re
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from importlib import resources

import chinese_calendar

_FILE = re.compile(r"overrides-(\d{4})\.csv")


class WorkCalendar:
    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        complete_years: frozenset[int] = frozenset(),
    ) -> None:
        self.overrides = dict(overrides or {})
        self.complete_years = complete_years
        # Each day's answer, once worked out: the package validates its argument on every call,
        # and every step opened counts forward day by day.
        self._answers: dict[date, bool] = {}
        # And each limit's last day: every step opened asks it, mostly for the same few days.
        self._ends: dict[tuple[date, int], date] = {}

    def _package_knows(self, day: date) -> bool | None:
        try:
            return bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            return None

    def is_estimated(self, year: int) -> bool:
        """True when neither the package nor a complete override file covers ``year``."""
        if year in self.complete_years:
            return False
        return self._package_knows(date(year, 6, 1)) is None

    def is_working_day(self, day: date) -> bool:
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._work_out(day)
        return answer

    def _work_out(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year not in self.complete_years:
            known = self._package_knows(day)
            if known is not None:
                return known
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The day on which a limit of ``days`` working days that starts on ``start`` runs out:
        counting begins the next day, as limits in the regulations do."""
        if days < 0:
            raise ValueError("days must not be negative")
        end = self._ends.get((start, days))
        if end is not None:
            return end
        current, left = start, days
        while left:
            current += timedelta(days=1)
            if self.is_working_day(current):
                left -= 1
        self._ends[(start, days)] = current
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: how many of a limit have been used by ``end``."""
        if end <= start:
            return 0
        return sum(
            self.is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1)
        )


def parse_overrides(text: str) -> tuple[dict[date, bool], bool]:
    complete = text.lstrip().startswith("# complete")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = csv.DictReader(io.StringIO("\n".join(lines)))
    return {date.fromisoformat(r["date"]): r["working"].strip() == "1" for r in rows}, complete


@cache
def work_calendar() -> WorkCalendar:
    """The calendar with every override file shipped in ``resources/calendar``."""
    overrides: dict[date, bool] = {}
    complete: set[int] = set()
    folder = resources.files("resources").joinpath("calendar")
    for entry in folder.iterdir():
        match = _FILE.fullmatch(entry.name)
        if match:
            days, whole_year = parse_overrides(entry.read_text(encoding="utf-8"))
            overrides.update(days)
            if whole_year:
                complete.add(int(match.group(1)))
    return WorkCalendar(overrides, frozenset(complete))
