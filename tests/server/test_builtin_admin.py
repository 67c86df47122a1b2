"""The built-in administrator role and the last administrator (issue 14 item 6).

The role is found by its fixed key, never by its name; the API cannot edit or delete it; and the
last enabled holder cannot lose it by any path (role removal, disabling, by the API or the CLI).
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.clock import FrozenClock
from server.config import Settings
from server.db.models import Role, RolePermission, User
from server.db.session import create_db_engine, create_session_factory
from server.services import bootstrap, users
from server.services.authz import principal_for
from server.services.errors import AppError
from shared.errors import ErrorCode
from shared.permissions import all_permissions
from shared.schemas.users import UserUpdate
from tests.server.conftest import Api
from tests.server.world import make_user, root_id


def admin_role(admin: Api) -> dict[str, Any]:
    roles = admin.get("/roles", params={"page_size": 100}).json()["items"]
    (builtin,) = [r for r in roles if r["builtin"]]
    return builtin


def version_of(admin: Api, user_id: int) -> int:
    version: int = admin.get(f"/users/{user_id}").json()["version"]
    return version


@pytest.mark.parametrize(
    "change",
    [
        {"permissions": []},
        {"name": "改名", "permissions": ["orgs:view"]},
        {"data_scope": {"kind": "own_org"}},
        {"description": "改说明"},
    ],
)
def test_the_builtin_role_is_not_editable(admin: Api, change: dict[str, Any]) -> None:
    role = admin_role(admin)
    refused = admin.patch(f"/roles/{role['id']}", 409, json={"version": role["version"], **change})
    assert refused.json()["code"] == "ROLE_BUILTIN"
    assert refused.json()["message"] == "内置的系统管理员角色不能修改或删除"
    deleted = admin.delete(f"/roles/{role['id']}", 409, params={"version": role["version"]})
    assert deleted.json()["code"] == "ROLE_BUILTIN"
    assert admin_role(admin)["permissions"] == sorted(all_permissions())


def test_init_db_finds_the_builtin_role_by_its_key(
    app, session: Session, initialised: Session, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    """Renamed and emptied behind the API's back, the role is still repaired, not duplicated."""
    role = session.scalar(select(Role).where(Role.builtin_key == "admin"))
    assert role is not None and role.name == bootstrap.ADMIN_ROLE_NAME
    role.name = "普通角色"
    role.data_scope_kind = "own_org"
    role.permission_rows = [RolePermission(permission="orgs:view")]
    session.commit()
    root = bootstrap.init_db(app.state.engine, session, now=clock.now(), province="330000")
    session.expire_all()
    roles = session.scalars(select(Role).where(Role.org_id == root.id)).all()
    assert [r.id for r in roles] == [role.id]
    assert set(role.permissions) == all_permissions()
    assert role.data_scope_kind == "all" and role.name == bootstrap.ADMIN_ROLE_NAME


def test_init_db_adopts_an_unkeyed_administrator_role(
    app, session: Session, initialised: Session, clock: FrozenClock
) -> None:  # type: ignore[no-untyped-def]
    """A database whose 系统管理员 lost its key (renamed before the upgrade that backfills it,
    then renamed back) gets the key on that role instead of a clashing second one."""
    role = session.scalar(select(Role).where(Role.builtin_key == "admin"))
    assert role is not None
    role.builtin_key = None
    session.commit()
    root = bootstrap.init_db(app.state.engine, session, now=clock.now(), province="330000")
    session.expire_all()
    roles = session.scalars(select(Role).where(Role.org_id == root.id)).all()
    assert [(r.id, r.builtin_key) for r in roles] == [(role.id, "admin")]


def test_the_last_administrator_keeps_the_status(
    admin: Api, client: TestClient, session: Session, clock: FrozenClock
) -> None:
    root = root_id(admin)
    me = admin.get("/me").json()["id"]
    plain = admin.post(
        "/roles",
        201,
        json={"name": "普通", "org_id": root, "permissions": [], "data_scope": {"kind": "own_org"}},
    ).json()
    demote = {"role_ids": [plain["id"]]}
    # nobody changes his own roles (USER_SELF_ACTION), the last administrator included
    refused = admin.patch(f"/users/{me}", 409, json={"version": version_of(admin, me), **demote})
    assert refused.json()["code"] == "USER_SELF_ACTION"
    # a deputy holding every permission (not the built-in role) may manage him, but not demote
    # the last one
    everything = admin.post(
        "/roles",
        201,
        json={
            "name": "全权",
            "org_id": root,
            "permissions": sorted(all_permissions()),
            "data_scope": {"kind": "all"},
        },
    ).json()
    _, deputy = make_user(admin, client, "deputy", root, everything["id"])
    refused = deputy.patch(f"/users/{me}", 409, json={"version": version_of(deputy, me), **demote})
    assert refused.json()["code"] == "LAST_ADMINISTRATOR"
    assert (
        refused.json()["message"] == "这是最后一个启用的系统管理员，不能停用或取消其系统管理员角色"
    )

    second_id, second = make_user(admin, client, "admin2", root, admin_role(admin)["id"])
    second.patch(f"/users/{me}", json={"version": version_of(second, me), "enabled": False})
    # admin2 is now the last one: neither the deputy nor the CLI may take it away
    last = deputy.patch(
        f"/users/{second_id}", 409, json={"version": version_of(deputy, second_id), **demote}
    )
    assert last.json()["code"] == "LAST_ADMINISTRATOR"
    with pytest.raises(AppError) as refused_cli:
        users.set_enabled_by_cli(session, second_id, now=clock.now(), enabled=False)
    assert refused_cli.value.code == ErrorCode.LAST_ADMINISTRATOR
    session.rollback()
    # a disabled holder does not count; once re-enabled, the other may be stood down
    users.set_enabled_by_cli(session, me, now=clock.now(), enabled=True)
    deputy.patch(f"/users/{second_id}", json={"version": version_of(deputy, second_id), **demote})
    held = session.scalar(select(User).where(User.id == me))
    assert held is not None and held.enabled


def test_others_still_change_once_no_administrator_is_left(
    admin: Api, client: TestClient, session: Session, clock: FrozenClock
) -> None:
    """A database that lost its last administrator behind the API's back still lets the CLI
    (which can create a new one) change everyone else: the guard keeps status, it cannot
    bring back what is already gone."""
    root = root_id(admin)
    plain = admin.post(
        "/roles",
        201,
        json={"name": "普通", "org_id": root, "permissions": [], "data_scope": {"kind": "own_org"}},
    ).json()
    other_id, _ = make_user(admin, client, "clerk", root, plain["id"])
    me = admin.get("/me").json()["id"]
    session.execute(update(User).where(User.id == me).values(enabled=False))
    session.commit()
    assert not users.set_enabled_by_cli(session, other_id, now=clock.now(), enabled=False).enabled


def test_two_administrators_disabling_each_other_at_once_leave_one(
    admin: Api, client: TestClient, settings: Settings, clock: FrozenClock
) -> None:
    """The check is serialised (the built-in role's row is locked on PostgreSQL, the database
    on SQLite): of two simultaneous demotions exactly one passes."""
    me = admin.get("/me").json()["id"]
    other, _ = make_user(admin, client, "admin2", root_id(admin), admin_role(admin)["id"])
    engine = create_db_engine(settings.database_url)
    factory = create_session_factory(engine)
    barrier = threading.Barrier(2)

    def disable(actor_id: int, target_id: int) -> str:
        with factory() as session:
            actor = session.get(User, actor_id)
            assert actor is not None
            principal = principal_for(session, actor)
            barrier.wait(timeout=30)
            try:
                users.update_user(
                    session,
                    principal,
                    target_id,
                    now=clock.now(),
                    data=UserUpdate(enabled=False),
                )
            except AppError as err:
                return str(err.code)
            return "ok"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(disable, (me, other), (other, me)))
    assert outcomes == ["LAST_ADMINISTRATOR", "ok"]
    with factory() as session:
        enabled = session.scalars(select(User.id).where(User.enabled.is_(True))).all()
        assert len([u for u in enabled if u in (me, other)]) == 1
    engine.dispose()
