"""The PostgreSQL engine's cursor (``server/db/pg_cursor``): ``description`` as plain tuples,
with the names and type codes psycopg's own gives, and results read as before."""

import pytest
from psycopg import Cursor
from sqlalchemy import Engine, text

from server.db.pg_cursor import LightCursor


def test_description_names_and_types_as_psycopg_does(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg only")
    query = "SELECT 1 AS n, 'x'::text AS label, now() AS at, '{\"a\": 1}'::json AS doc"
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        light = driver.cursor()
        assert isinstance(light, LightCursor)
        plain = Cursor(driver)
        light.execute(query)
        plain.execute(query)
        assert light.fetchall() == plain.fetchall()  # one transaction: the same now()
        described = light.description
        assert described is not None
        psycopgs = [(c.name, c.type_code) for c in plain.description or []]
        assert [c[:2] for c in described] == psycopgs
        assert all(len(c) == 7 for c in described)
        assert light.description is described  # built once per result
        light.execute("SELECT 2 AS m")
        assert [c[0] for c in light.description or []] == ["m"]  # a new result, new columns
        light.execute("CREATE TEMP TABLE t_light (x int)")
        assert light.description is None  # no rows: none, as DB-API says
    finally:
        raw.close()
    with engine.connect() as conn:
        row = conn.execute(text("SELECT 1 AS n, 'x' AS label")).one()
        assert (row.n, row.label) == (1, "x")
