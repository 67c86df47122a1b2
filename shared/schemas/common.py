"""Base classes and the bounded types every request schema is built from.

Every value a request brings is bounded where it is declared: ids fit the databases' 32-bit
``INTEGER`` columns, strings have a length, lists a number of items, and no string carries a NUL
character (PostgreSQL refuses it in text). A request that breaks a bound answers 422 before it
reaches a query, instead of a database error (500) or an answer of unbounded size.
"""

import re
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

# format characters that show nothing: soft hyphen, Arabic letter mark, Mongolian vowel
# separator, zero-width spaces and joiners, direction marks and overrides, word joiner and
# invisible operators, direction isolates, the byte-order mark
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
_CONTROL = re.compile("[\x01-\x1f\x7f-\x9f]")  # NUL has its own refusal (``Input``)
CONTROL_MESSAGE = "不能包含换行、制表符等控制字符"


def _plain_name(value: Any) -> Any:
    """A name as it reads: invisible format characters dropped (text pasted from a web page or
    a document brings them along unseen) and composed to NFC (which also maps the CJK
    compatibility ideographs to the ordinary ones), before the length is checked. So
    "上城区公安分局" followed by a zero-width space, or with a look-alike ideograph, is the same
    name to the uniqueness checks as it is to the eye."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", _INVISIBLE.sub("", value))
    return value


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(CONTROL_MESSAGE)
    return value


Name = Annotated[str, BeforeValidator(_plain_name), AfterValidator(_one_line)]
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
