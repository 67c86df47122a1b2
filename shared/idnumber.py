"""Resident identity card numbers (GB 11643-1999): 6-digit region, 8-digit birth date,
3-digit sequence (odd = male), and an ISO 7064 MOD 11-2 check character.

Written here rather than taken from a package: the published ones are stale (no lowercase x,
no future-date check) or wrong about leap years.
"""

from dataclasses import dataclass
from datetime import date

from shared.china_time import china_today

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK_CHARS = "10X98765432"
# First two digits: the province-level codes of GB/T 2260 (incl. Taiwan, Hong Kong, Macao).
_PROVINCE_PREFIXES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    ]
)
_EARLIEST_BIRTH = date(1900, 1, 1)


class IdNumberError(ValueError):
    """An invalid ID number; ``str(err)`` is a Chinese sentence for the clerk."""


@dataclass(frozen=True)
class IdNumber:
    value: str
    region_code: str
    birth_date: date
    is_male: bool

    @property
    def gender_label(self) -> str:
        return "男" if self.is_male else "女"


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate and normalise (trim, upper-case ``x``); raise IdNumberError with the reason."""
    value = raw.strip().upper()
    if len(value) != 18:
        raise IdNumberError(f"身份证号应为18位，当前为{len(value)}位")
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        raise IdNumberError("身份证号前17位须为数字，最后一位为数字或X")
    if value[:2] not in _PROVINCE_PREFIXES:
        raise IdNumberError("身份证号前两位不是有效的省级行政区划代码")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期不存在") from None
    today = today or china_today()
    if birth > today:
        raise IdNumberError("身份证号中的出生日期晚于今天")
    if birth < _EARLIEST_BIRTH:
        raise IdNumberError("身份证号中的出生日期早于1900年")
    expected = check_char(value[:17])
    if value[17] != expected:
        raise IdNumberError("身份证号校验位错误，请核对号码")
    return IdNumber(value, value[:6], birth, int(value[16]) % 2 == 1)


def normalise_id_number(raw: str, *, today: date | None = None) -> str:
    return parse_id_number(raw, today=today).value


def is_valid_id_number(raw: str, *, today: date | None = None) -> bool:
    try:
        parse_id_number(raw, today=today)
    except IdNumberError:
        return False
    return True
