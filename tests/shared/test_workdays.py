from datetime import date

from shared.workdays import WorkCalendar, parse_overrides, work_calendar


def test_official_2026_calendar() -> None:
    cal = work_calendar()
    assert not cal.is_estimated(2026)
    assert not cal.is_working_day(date(2026, 1, 1))  # 元旦
    assert not cal.is_working_day(date(2026, 10, 1))  # 国庆
    assert cal.is_working_day(date(2026, 2, 14))  # a Saturday worked for the Spring Festival
    assert not cal.is_working_day(date(2026, 2, 16))  # a Monday of the Spring Festival
    assert not cal.is_working_day(date(2026, 3, 7))  # an ordinary Saturday
    assert cal.is_working_day(date(2026, 3, 9))  # an ordinary Monday


def test_five_working_days_across_the_spring_festival() -> None:
    cal = work_calendar()
    # Fri 13 Feb: Sat 14 (worked) is day 1, the holiday to Mon 23 Feb does not count.
    deadline = cal.add_working_days(date(2026, 2, 13), 5)
    assert deadline == date(2026, 2, 27)  # 14, 24, 25, 26, 27
    assert cal.working_days_between(date(2026, 2, 13), deadline) == 5
    assert cal.is_working_day(date(2026, 2, 28))  # the second worked Saturday
    assert cal.working_days_between(date(2026, 2, 14), date(2026, 2, 22)) == 0


def test_override_file_wins_and_completes_unknown_years() -> None:
    text = "# complete\ndate,working,note\n2031-01-01,0,元旦\n2031-01-04,1,调休\n"
    days, complete = parse_overrides(text)
    assert complete and days == {date(2031, 1, 1): False, date(2031, 1, 4): True}
    cal = WorkCalendar(days, frozenset({2031}))
    assert not cal.is_estimated(2031)
    assert not cal.is_working_day(date(2031, 1, 1))  # a Wednesday made a holiday
    assert cal.is_working_day(date(2031, 1, 4))  # a Saturday made a working day
    assert cal.add_working_days(date(2030, 12, 31), 2) == date(2031, 1, 3)
    # an override corrects a year the package knows
    fixed = WorkCalendar({date(2026, 3, 9): False})
    assert not fixed.is_working_day(date(2026, 3, 9))


def test_unknown_year_is_estimated_on_weekdays() -> None:
    cal = WorkCalendar()
    assert cal.is_estimated(2031)
    assert cal.is_working_day(date(2031, 1, 6))  # Monday
    assert not cal.is_working_day(date(2031, 1, 5))  # Sunday
    assert cal.working_days_between(date(2031, 1, 3), date(2031, 1, 3)) == 0
