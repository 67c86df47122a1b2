"""Chinese names sort by pinyin (阿明, 李四, 王五, 张三, 赵六), not by code point, on both engines.

Every ``ORDER BY`` on a Chinese name goes through ``chinese(column)``, which adds
``COLLATE zh``. The collation has the same name on both databases:

* PostgreSQL: migration 0007 creates ``zh`` from ICU's Chinese pinyin order (or, on a server
  built without ICU, from the operating system's ``zh_CN`` locale).
* SQLite: ``register`` gives every new connection a ``zh`` collation whose key is the pinyin of
  each character (pypinyin; docs/decisions.md says why this library).

As in ICU's Chinese order, punctuation sorts first, then digits, then Chinese characters, then
Latin (and other) letters.
"""

import sqlite3
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin
from sqlalchemy import ColumnElement

ZH = "zh"


def chinese(column: Any) -> ColumnElement[Any]:
    """``column COLLATE zh``: for ``order_by`` on a column holding Chinese names."""
    return column.collate(ZH)


def _each(chars: str) -> Any:
    """Characters pypinyin has no reading for, one entry each (its stubs say str; it takes a
    list too, which keeps one entry per character)."""
    return list(chars)


Key = tuple[tuple[int, str, str, str], ...]
_PUNCTUATION, _DIGIT, _CHINESE, _LETTER = range(4)


def _other(ch: str) -> tuple[int, str, str, str]:
    group = _DIGIT if ch.isdigit() else _LETTER if ch.isalpha() else _PUNCTUATION
    return (group, ch.casefold(), "", ch)


@lru_cache(maxsize=65536)
def sort_key(text: str) -> Key:
    """Per character: (group, pinyin without tone, pinyin with tone, the character).

    Pinyin first (ü as u, as ICU reads it: 吕 lǚ before 罗 luó), then tone, then the
    character, so same-sounding names keep a fixed order."""
    plain = lazy_pinyin(text, style=Style.NORMAL, errors=_each)
    toned = lazy_pinyin(text, style=Style.TONE3, errors=_each)
    if not len(plain) == len(toned) == len(text):  # pypinyin split or merged a character
        return tuple(_other(ch) for ch in text)
    return tuple(
        (_CHINESE, p.replace("v", "u"), t, ch) if p != ch else _other(ch)
        for ch, p, t in zip(text, plain, toned, strict=True)
    )


def _compare(a: str, b: str) -> int:
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def register(dbapi_conn: sqlite3.Connection) -> None:
    """Give a new SQLite connection the ``zh`` collation."""
    dbapi_conn.create_collation(ZH, _compare)
