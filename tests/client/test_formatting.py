from datetime import UTC, datetime

from client.formatting import local_time


def test_times_are_shown_in_shanghai() -> None:
    moment = datetime(2026, 11, 22, 16, 30, 5, tzinfo=UTC)
    assert local_time(moment) == "2026-11-23 00:30"
    assert local_time(moment, seconds=True) == "2026-11-23 00:30:05"
    assert local_time(None) == ""
