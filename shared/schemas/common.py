"""Base classes and the bounded types every request schema is built from.

Every value a request brings is bounded where it is declared: ids fit the databases' 32-bit
``INTEGER`` columns, strings have a length, lists a number of items, and no string carries a NUL
character (PostgreSQL refuses it in text). A request that breaks a bound answers 422 before it
reaches a query, instead of a database error (500) or an answer of unbounded size.
"""

import unicodedata
from typing import Annotated, Any, Generic, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, field_validator

INT32_MAX = 2**31 - 1
NUL_MESSAGE = "不能包含空字符（\\0）"

Id = Annotated[int, Ge(1), Le(INT32_MAX)]
"""A row id, in a path, a query or a body: 1 … 2³¹−1, the range of the ``INTEGER`` columns."""

Version = Annotated[int, Ge(0), Le(INT32_MAX)]
"""The optimistic-locking version a client read (``version`` columns are 32-bit too)."""


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""A string without NUL, for parameters outside a request schema (form fields)."""

_SHOWS_NOTHING = frozenset({0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0})
"""Beside the format characters (category Cf: zero-width spaces and joiners, direction marks
and overrides, the byte-order mark, soft hyphen, tag characters …) and the variation selectors:
the combining grapheme joiner and the Hangul fillers, which draw nothing either."""
CONTROL_MESSAGE = "不能包含换行、制表符等控制字符"


def _invisible(char: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char) == "Cf"
        or code in _SHOWS_NOTHING
        or 0xFE00 <= code <= 0xFE0F
        or 0xE0100 <= code <= 0xE01EF
    )


def plain_name(value: str) -> str:
    """A name as it reads: characters that draw nothing dropped (text pasted from a web page or
    a document brings them along unseen) and composed to NFC (which also maps the CJK
    compatibility ideographs to the ordinary ones). So "上城区公安分局" followed by a zero-width
    space, or with a look-alike ideograph, is the same name to the uniqueness checks as it is to
    the eye. The one rule for names, wherever they come from (a request, an import file)."""
    return unicodedata.normalize("NFC", "".join(c for c in value if not _invisible(c)))


def _plain_name(value: Any) -> Any:
    return plain_name(value) if isinstance(value, str) else value


def one_line(value: str) -> str:
    """``value``, or ValueError (``CONTROL_MESSAGE``) if it holds a control character or a line
    or paragraph separator (Cc, Zl, Zp): a name is one line. NUL has its own refusal
    (``Input``)."""
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") and c != "\0" for c in value):
        raise ValueError(CONTROL_MESSAGE)
    return value


Name = Annotated[str, BeforeValidator(_plain_name), AfterValidator(one_line)]
"""The name of an organisation, a role or a person: one line, nothing invisible in it."""


def _refuse_nul(value: Any) -> Any:
    """NUL anywhere in a value: a string, a list item, a dict key or value (``form``)."""
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    return value


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True, str_strip_whitespace=True)


class Input(Schema):
    """The base of every request body: no field, however nested, may hold a NUL character.

    Response schemas stay on ``Schema``: they are built by the server from its own data, on
    hot paths where a validator per field would cost time for nothing. Numbers are finite:
    ``Infinity`` parses as JSON here but no database column or JSON answer can hold it."""

    model_config = ConfigDict(allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _without_nul(cls, value: Any) -> Any:
        return _refuse_nul(value)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A page of a list endpoint: ``?page=1&page_size=20`` → ``{"items": [...], "total": N}``."""

    items: list[T]
    total: int
    page: int = 1
    page_size: int = 20


class ErrorBody(BaseModel):
    """Every error answer: a stable ``code`` (see ``shared.errors``), a Chinese ``message`` for
    the clerk, and ``details`` (field errors, import problems, …) when there are any."""

    code: str
    message: str
    details: Any = None


class ActionState(Schema):
    """Whether the caller may take one action now and, when not, why: a stable code (an
    ``ErrorCode``, the one the server would answer with) and the Chinese reason to show, so the
    desk greys a button and says why before anyone tries."""

    allowed: bool
    reason_code: str | None = None
    reason: str | None = None
