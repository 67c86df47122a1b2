"""``one_of(column, ids)``: membership in a list of ids passed as one parameter, on both engines.

``column.in_(ids)`` binds one parameter per id and renders them into the SQL at every execution.
On PostgreSQL the text then changes with the number of ids, and psycopg neither caches the
parsing of a query with more than 50 parameters nor keeps one prepared statement for all the
lengths: a city administrator's scope of a hundred-odd bureaus, put into every query of every
request he makes, was parsed anew each time. ``one_of`` binds the whole list once:

* PostgreSQL: ``column = ANY (:ids)``, the list as an ``integer[]`` (what PostgreSQL makes of
  ``IN (...)`` itself);
* SQLite: ``column IN (SELECT value FROM json_each(:ids))``, the list as JSON text.

The SQL is the same whatever the ids, and an empty list matches nothing (where ``IN ()`` is
not SQL). ``ids`` is a list, or a ``bindparam`` given a list when the statement is executed
(a statement built once, at import).
"""

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Boolean, Dialect, Integer, String, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.elements import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator, TypeEngine


class IdList(TypeDecorator[list[int]]):
    """A list of ids as one parameter: an ``integer[]`` on PostgreSQL, JSON text on SQLite."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Integer))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Iterable[int] | None, dialect: Dialect) -> Any:
        ids = [int(v) for v in value or ()]
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class OneOf(ColumnElement[bool]):
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate: SQLite's WHERE is not to compare it with 1
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, ids: BindParameter[Any]) -> None:
        self.column = coercions.expect(roles.ExpressionElementRole, column)
        self.ids = ids


def ids_param(name: str) -> BindParameter[list[int]]:
    """A parameter for ``one_of`` in a statement built once, given its list at execution."""
    return bindparam(name, type_=IdList())


def one_of(column: Any, ids: Iterable[int] | BindParameter[Any]) -> ColumnElement[bool]:
    """``column`` is one of ``ids`` (see the module docstring): a list, or ``ids_param``."""
    if isinstance(ids, BindParameter):
        assert isinstance(ids.type, IdList), "one_of takes an ids_param"
        return OneOf(column, ids)
    return OneOf(column, bindparam(None, value=sorted(ids), type_=IdList()))


@compiles(OneOf, "postgresql")
def _one_of_postgresql(element: OneOf, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"({column} = ANY ({ids}))"


@compiles(OneOf, "sqlite")
def _one_of_sqlite(element: OneOf, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"({column} IN (SELECT value FROM json_each({ids})))"  # noqa: S608 - compiled SQL
