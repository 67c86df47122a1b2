"""The psycopg cursor the PostgreSQL engine hands out: ``cursor.description`` as plain tuples.

SQLAlchemy reads ``cursor.description`` after every statement that returns rows, to match the
result's columns, and reads only the name and the type code of each column. psycopg builds a
``Column`` object per column on every access (a Python object that looks up the type's
metadata and decodes the name), about a microsecond each: a read of an application with its
pending step has some fifty columns, and an approval reads several such rows, so this cost was
larger than the driver's own work on the round trip. Here each column is a 7-tuple of DB-API
shape (name, type OID, then five ``None``: sizes, precision, scale and nullability are optional
in DB-API 2.0 and nothing in SGSS reads them), built once per result.
"""

from typing import Any

from psycopg import Cursor, pq

_TUPLES = frozenset(
    {pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK}
)


class LightCursor(Cursor[Any]):
    """``psycopg.Cursor`` with ``description`` as tuples (see the module's docstring)."""

    _described: tuple[Any, list[tuple[Any, ...]]] | None = None

    @property
    def description(self) -> list[tuple[Any, ...]] | None:  # type: ignore[override]
        res = self.pgresult
        # as psycopg: columns when there are any, or when the statement said it returned rows
        if not res or not (res.nfields or res.status in _TUPLES):
            return None
        described = self._described
        if described is not None and described[0] is res:
            return described[1]
        encoding = self.connection.info.encoding  # the names' encoding, by the public API
        columns = []
        for i in range(res.nfields):
            name = res.fname(i)
            columns.append(
                (
                    name.decode(encoding) if name else f"column_{i + 1}",  # COPY has no names
                    res.ftype(i),
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
        self._described = (res, columns)
        return columns
