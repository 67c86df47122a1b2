"""China Standard Time (Asia/Shanghai) by rule, whatever zone the machine is set to.

Business dates — "today", a step's due date, the year in an application number, the date on a
certificate, a date range a clerk picks — are dates in Beijing. A server host or a workstation
may run in UTC or anywhere else: every conversion between an instant and a date goes through
here, never through the machine's local zone (``date.today()``, ``QDate.currentDate()``,
naive ``datetime.now()``). Instants themselves are stored in UTC.
"""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def china_time(moment: datetime) -> datetime:
    """An aware instant as Beijing wall-clock time."""
    return moment.astimezone(CHINA_TZ)


def china_day(moment: datetime) -> date:
    """The Beijing date of an aware instant."""
    return moment.astimezone(CHINA_TZ).date()


def china_now() -> datetime:
    return datetime.now(CHINA_TZ)


def china_today() -> date:
    return china_now().date()


def day_start(day: date) -> datetime:
    """Midnight at the start of a Beijing date, as an aware UTC instant."""
    return datetime.combine(day, time.min, CHINA_TZ).astimezone(UTC)
