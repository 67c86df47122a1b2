"""Principals are reused between requests only while access is unchanged: any change to a role,
a grant, a user or the organisation tree — through the API or straight through the database —
takes effect on the very next request of an already signed-in user."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from server.db.models import AuthzEpoch, Org, RolePermission, User
from server.db.session import create_session_factory
from server.services.orgs import add_org
from shared.enums import OrgType
from tests.server.conftest import Api, login
from tests.server.world import STRONG, make_user, root_id


def _epoch(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(AuthzEpoch.value).where(AuthzEpoch.id == 1)) or 0)


def _viewer(admin: Api, client: TestClient, username: str) -> tuple[int, int, Api]:
    root = root_id(admin)
    role = admin.post(
        "/roles",
        201,
        json={
            "name": f"只读{username}",
            "org_id": root,
            "permissions": ["orgs:view"],
            "data_scope": {"kind": "all"},
        },
    ).json()
    user_id, api = make_user(admin, client, username, root, role["id"])
    return role["id"], user_id, api


def test_a_granted_permission_applies_to_the_next_request(
    admin: Api, client: TestClient, session: Session
) -> None:
    role_id, _, clerk = _viewer(admin, client, "viewer1")
    clerk.get("/orgs")
    clerk.get("/roles", 403)
    before = _epoch(session)
    admin.patch(f"/roles/{role_id}", json={"permissions": ["orgs:view", "roles:view"]})
    assert _epoch(session) > before
    clerk.get("/roles")  # same token, no new sign-in
    admin.patch(f"/roles/{role_id}", json={"permissions": ["orgs:view"]})
    clerk.get("/roles", 403)


def test_changes_outside_the_api_move_the_epoch_too(
    admin: Api, client: TestClient, app, session: Session
) -> None:  # type: ignore[no-untyped-def]
    role_id, user_id, clerk = _viewer(admin, client, "viewer2")
    clerk.get("/users", 403)
    # what a CLI command or an import does: its own session, no HTTP
    with create_session_factory(app.state.engine)() as other:
        other.add(RolePermission(role_id=role_id, permission="users:view"))
        other.commit()
    clerk.get("/users")
    before = _epoch(session)
    with create_session_factory(app.state.engine)() as other:
        root = other.scalar(select(Org).where(Org.parent_id.is_(None)))
        assert root is not None
        add_org(
            other,
            now=root.created_at,
            parent=root,
            name="新设市局",
            type=OrgType.city_bureau,
            region_code="330200",
        )
        other.commit()
    assert _epoch(session) == before + 1  # the tree changed: subtree scopes may have too
    with create_session_factory(app.state.engine)() as other:
        user = other.get(User, user_id)
        assert user is not None
        user.enabled = False
        other.commit()
    response = clerk.get("/orgs", None)
    assert response.status_code == 401


def test_sign_in_bookkeeping_does_not_invalidate_principals(
    admin: Api, client: TestClient, session: Session
) -> None:
    _viewer(admin, client, "viewer3")
    before = _epoch(session)
    login(client, "viewer3", STRONG)
    response = client.post(
        "/api/v1/auth/login", json={"username": "viewer3", "password": "wrong-Password1"}
    )
    assert response.status_code == 401
    assert _epoch(session) == before


def test_a_cached_principal_saves_the_queries(admin: Api, client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    _, _, clerk = _viewer(admin, client, "viewer4")
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine: Engine = app.state.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        clerk.get("/me")
        clerk.get("/orgs")
        statements.clear()
        clerk.get("/orgs")
    finally:
        event.remove(engine, "before_cursor_execute", record)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    touches_roles = [s for s in selects if "role_permissions" in s or "user_roles" in s]
    assert touches_roles == [], touches_roles
