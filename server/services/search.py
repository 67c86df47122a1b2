"""Text search in SQL: the one place a user's words become a LIKE pattern.

``%`` and ``_`` in what a clerk types are the characters themselves, never wildcards: searching
users for ``%`` must not list every account. Both databases honour ``ESCAPE '\\'``.
"""

from typing import Any

from sqlalchemy import ColumnElement

ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards and the escape character itself escaped."""
    return text.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` holds ``text`` anywhere."""
    result: ColumnElement[bool] = column.like(f"%{escape_like(text)}%", escape=ESCAPE)
    return result


def starts_with(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` begins with ``text``."""
    result: ColumnElement[bool] = column.like(f"{escape_like(text)}%", escape=ESCAPE)
    return result
