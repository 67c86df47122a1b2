"""``db.membership.one_of``: a list of ids as one parameter, on both engines — the rows it
matches, and SQL that stays the same whatever the list, so that a scope of a hundred bureaus
costs a prepared statement once, not a parse per query."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.membership import ids_param, one_of
from server.db.models import Org
from tests.server.conftest import Api
from tests.server.test_request_cost import statements_of
from tests.server.world import make_city, root_id


def test_one_of_matches_exactly_the_listed_ids(admin: Api, session: Session) -> None:
    ids = session.scalars(select(Org.id).order_by(Org.id)).all()
    assert len(ids) >= 1

    def matched(listed: Any) -> list[int]:
        statement = select(Org.id).where(one_of(Org.id, listed)).order_by(Org.id)
        return list(session.scalars(statement))

    # the same statement with other lists, one after the other: each gets its own rows
    assert matched(ids) == ids
    assert matched(ids[:1]) == ids[:1]
    assert matched([]) == []
    assert matched([ids[0], 10**6]) == [ids[0]]
    assert matched(set(ids)) == ids
    negated = select(Org.id).where(~one_of(Org.id, ids[:1])).order_by(Org.id)
    assert list(session.scalars(negated)) == ids[1:]
    built_once = select(Org.id).where(one_of(Org.id, ids_param("ids"))).order_by(Org.id)
    assert list(session.scalars(built_once, {"ids": ids[:1]})) == ids[:1]
    assert list(session.scalars(built_once, {"ids": []})) == []


def test_a_scoped_page_is_the_same_sql_whatever_the_scope(
    admin: Api, client: TestClient, app: Any
) -> None:
    """Two city administrators, one with twice the bureaus: their pages of organisations run
    the same statements, text for text (their scopes are parameters, not SQL)."""
    root = root_id(admin)
    small = make_city(admin, client, root, "hz", "330100", "330102")
    large = make_city(admin, client, root, "nb", "330200", "330203")
    for n, county in enumerate(("330205", "330206")):
        admin.post(
            "/orgs",
            201,
            json={
                "name": f"增设{n}县公安局",
                "parent_id": large.city_id,
                "type": "county_bureau",
                "region_code": county,
            },
        )
    texts = []
    for city in (small, large):
        city.admin.get("/orgs")
        with statements_of(app) as seen:
            page = city.admin.get("/orgs", params={"page_size": 50}).json()
        texts.append(seen)
        assert {o["id"] for o in page["items"]} >= {city.city_id, city.county_id}
    small_page, large_page = texts
    assert small_page[1:] == large_page[1:]  # after the token's own statement
    assert len(large_page) == 3
