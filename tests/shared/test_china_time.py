"""Beijing dates whatever the machine's zone (run under two zones, see MACHINE_ZONES)."""

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from shared.china_time import china_day, china_today, day_start
from shared.idnumber import IdNumberError, parse_id_number

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.machine_zones
def test_beijing_date_of_an_instant() -> None:
    assert china_day(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == date(2026, 11, 30)
    assert china_day(datetime(2026, 11, 30, 16, 0, tzinfo=UTC)) == date(2026, 12, 1)
    assert day_start(date(2026, 12, 1)) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.mark.machine_zones
def test_today_is_beijing_today() -> None:
    offset = datetime.now(UTC).astimezone().utcoffset()  # the zone really is in force
    assert offset in (timedelta(hours=-12), timedelta(hours=14))
    assert china_today() == (datetime.now(UTC) + timedelta(hours=8)).date()


@pytest.mark.machine_zones
def test_id_numbers_born_today_in_beijing_are_not_future() -> None:
    today = china_today()
    body = f"110101{today:%Y%m%d}123"
    weights = [pow(2, 17 - i, 11) for i in range(17)]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    assert parse_id_number(body + check).birth_date == today
    tomorrow = today + timedelta(days=1)
    body = f"110101{tomorrow:%Y%m%d}123"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    with pytest.raises(IdNumberError):
        parse_id_number(body + check)


LOCAL_CLOCK_CALLS = {("date", "today"), ("QDate", "currentDate"), ("QDateTime", "currentDateTime")}


def _local_clock_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        owner = node.func.value
        name = owner.id if isinstance(owner, ast.Name) else None
        if (name, node.func.attr) in LOCAL_CLOCK_CALLS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}.{node.func.attr}()")
        if (name, node.func.attr) == ("datetime", "now") and not node.args and not node.keywords:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} naive datetime.now()")
    return found


def test_no_code_reads_the_machines_local_date() -> None:
    """Dates come from shared.china_time; the machine's zone is never asked."""
    offenders = [
        hit
        for package in ("client", "server", "shared", "drivers", "bench")
        for path in sorted((ROOT / package).rglob("*.py"))
        for hit in _local_clock_calls(path)
    ]
    assert offenders == []
