"""Chinese names sort by pinyin on both engines: 阿明, 李四, 王五, 张三, 赵六 — not by code point
(which would give 张三 李四 王五 赵六 阿明 in a scrambled order)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.collation import chinese
from shared.enums import BusinessType
from tests.server.approval_world import application_body, build
from tests.server.conftest import Api
from tests.server.world import make_user, two_cities

NAMES = ["张三", "李四", "王五", "阿明", "赵六"]
PINYIN = ["阿明", "李四", "王五", "张三", "赵六"]


def test_the_database_orders_by_pinyin(session: Session) -> None:
    assert sorted(NAMES) != PINYIN  # code point order is not pinyin order
    rows = union_all(*(select(literal(n).label("n")) for n in [*NAMES, "Alice", "123"])).subquery()
    ordered = session.scalars(select(rows.c.n).order_by(chinese(rows.c.n))).all()
    assert ordered == ["123", *PINYIN, "Alice"]
    descending = session.scalars(select(rows.c.n).order_by(chinese(rows.c.n).desc())).all()
    assert descending == list(reversed(ordered))


def test_users_roles_and_orgs_sort_by_pinyin(admin: Api, client: TestClient) -> None:
    hz, _ = two_cities(admin, client)
    for n, name in enumerate(NAMES):
        role = admin.post(
            "/roles",
            201,
            json={
                "name": name,
                "org_id": hz.station_id,
                "permissions": ["applications:view"],
                "data_scope": {"kind": "own_org"},
            },
        ).json()
        user_id, _ = make_user(admin, client, f"pinyin{n}", hz.station_id, role["id"])
        admin.patch(f"/users/{user_id}", json={"name": name})
        admin.post(
            "/orgs",
            201,
            json={"name": name, "parent_id": hz.county_id, "type": "police_station"}
            | {"region_code": admin.get(f"/orgs/{hz.county_id}").json()["region_code"]},
        )
    users = admin.get("/users", params={"org_id": hz.station_id, "sort": "name"}).json()
    assert [u["name"] for u in users["items"] if u["name"] in NAMES] == PINYIN
    roles = admin.get("/roles", params={"sort": "-name", "page_size": 100}).json()
    assert [r["name"] for r in roles["items"] if r["name"] in NAMES] == PINYIN[::-1]
    orgs = admin.get("/orgs", params={"parent_id": hz.county_id, "sort": "name"}).json()
    assert [o["name"] for o in orgs["items"] if o["name"] in NAMES] == PINYIN


def test_the_inbox_sorts_applicants_by_pinyin(
    initialised: Session, client: TestClient, settings: Settings, clock: FrozenClock
) -> None:
    world = build(initialised, client, settings, clock.now())
    for name in NAMES:
        body = application_body(BusinessType.annual_report_filing, name=name)  # type: ignore[arg-type]
        world.apis["intake"].post("/applications", 201, json=body)
    inbox = world.apis["xh_clerk"].get("/inbox", params={"sort": "applicant_name"}).json()
    assert [r["applicant_name"] for r in inbox["items"]] == PINYIN


SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)


@pytest.mark.postgres
def test_sqlite_order_agrees_with_icu_on_common_surnames(session: Session) -> None:
    """The hundred commonest surnames (with a given name): ICU on PostgreSQL and pypinyin on
    SQLite put them in the same pinyin order, so a list reads alike whichever engine serves it.
    Only characters of the same sound and tone (江/姜 jiāng) may stand in another order."""
    from server.db.collation import sort_key

    names = [f"{surname}明" for surname in SURNAMES]
    rows = union_all(*(select(literal(n).label("n")) for n in names)).subquery()
    ordered = session.scalars(select(rows.c.n).order_by(chinese(rows.c.n))).all()

    def sound(name: str) -> list[tuple[int, str, str]]:
        return [part[:3] for part in sort_key(name)]

    assert [sound(n) for n in ordered] == sorted(sound(n) for n in names)
