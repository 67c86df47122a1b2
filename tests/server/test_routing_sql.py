"""The routing rule read in SQL (``bureau_columns``, what an action's claim reads with the
application) answers exactly what ``bureaus`` answers in Python, for every kind of region: a
county with bureaus at all three levels, two bureaus of one type in a region (the lowest id
wins), a region with no county bureau, a city-level region code, and a region nobody covers."""

from datetime import UTC, datetime

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from server.db.models import Org
from server.services.approvals import routing
from server.services.orgs import add_org
from shared.enums import OrgType

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def test_sql_routing_agrees_with_python_routing(initialised: Session) -> None:
    session = initialised
    root = session.scalar(select(Org).where(Org.parent_id.is_(None)))
    hangzhou = add_org(
        session, now=NOW, parent=root, name="杭州市公安局", type=OrgType.city_bureau,
        region_code="330100",
    )  # fmt: skip
    for name in ("西湖区分局", "西湖区分局（二）"):  # two of one type: the lowest id routes
        add_org(
            session, now=NOW, parent=hangzhou, name=name, type=OrgType.county_bureau,
            region_code="330106",
        )  # fmt: skip
    add_org(  # a station in the county is not a bureau and never routes
        session, now=NOW, parent=hangzhou, name="文三路派出所", type=OrgType.police_station,
        region_code="330106",
    )  # fmt: skip
    session.flush()
    regions = ["330106", "330108", "330100", "330000", "330200", "330203", "110101"]
    for region in regions:
        row = session.execute(select(*routing.bureau_columns(literal(region)))).one()
        assert routing.bureaus_of_row(tuple(row)) == routing.bureaus(session, region), region
