"""How values are shown: times in Asia/Shanghai whatever the workstation's zone, dates as
yyyy-MM-dd."""

from datetime import datetime

from shared.china_time import china_time


def local_time(value: datetime | None, *, seconds: bool = False) -> str:
    if value is None:
        return ""
    return china_time(value).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
