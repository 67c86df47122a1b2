"""What clerks type, read as what they meant: full-width digits (８５), "85.0", numbers stored as
text, surrounding spaces (ASCII, no-break and the ideographic space), 是/√/Y for 缺考.

Each function answers a value or a Chinese sentence saying why not, never raises: the reader
collects every problem of a file in one pass.
"""

import math
import re
import unicodedata
from decimal import Decimal

from server.services.scoresheets.spec import canonical

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PLACES = 2
_STEP = Decimal(1).scaleb(-_PLACES)
_ABSENT = frozenset({"是", "缺考", "缺", "√", "✓", "✔", "Y", "YES", "TRUE", "1"})
_PRESENT = frozenset({"", "否", "N", "NO", "FALSE", "0"})


def text(value: object) -> str:
    """A cell as text: blank for None, ``2024001`` (not ``2024001.0``) for a whole float."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def score(value: object, full_mark: Decimal) -> Decimal | str | None:
    """The score, None for a blank cell, or why the cell is not a score."""
    number = _number(value)
    if not isinstance(number, Decimal):
        return number
    if number.normalize().as_tuple().exponent < -_PLACES:  # type: ignore[operator]
        return f"成绩最多保留{_PLACES}位小数"
    if not 0 <= number <= full_mark:
        return f"成绩{canonical(number)}超出范围，应在0至{canonical(full_mark)}之间"
    return Decimal(canonical(number)) if number else Decimal(0)  # "-0" is 0


def _number(value: object) -> Decimal | str | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "不是有效的数字"
        number = Decimal(repr(value))
        rounded = number.quantize(_STEP)
        return rounded if abs(number - rounded) < Decimal("1e-9") else number  # a formula's noise
    if isinstance(value, str):
        typed = unicodedata.normalize("NFKC", value).strip().replace("。", ".")
        if not typed or _NUMBER.fullmatch(typed):
            return Decimal(typed) if typed else None
    # a bool, text that is no number, a date or time Excel guessed from what was typed
    return f"“{text(value)}”不是数字"


def absent(value: object) -> bool | str:
    """True when the 缺考 cell marks the candidate absent, or why the cell means neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    marked = unicodedata.normalize("NFKC", text(value)).strip().upper()
    if marked in _ABSENT:
        return True
    if marked in _PRESENT:
        return False
    return f"“{text(value)}”无法识别，缺考请填“是”，否则留空"
