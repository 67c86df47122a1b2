from fastapi.testclient import TestClient

from server.clock import FrozenClock
from tests.server.conftest import ADMIN, ADMIN_PASSWORD, Api, RecordingSender, login
from tests.server.world import STRONG, make_user, root_id


def _attempt(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_login_shape_and_me(admin: Api) -> None:
    me = admin.get("/me").json()
    assert me["username"] == ADMIN
    assert me["org_name"] == "浙江省公安厅"
    assert "users:create" in me["permissions"]
    assert me["scope"]["all"] is True


def test_wrong_password_and_unknown_name_get_the_same_401(client: TestClient, initialised) -> None:  # type: ignore[no-untyped-def]
    response = _attempt(client, ADMIN, "nope")
    assert response.status_code == 401
    body = response.json()
    assert body == {
        "code": "AUTH_INVALID_CREDENTIALS",
        "message": "用户名或密码错误",
        "details": None,
    }
    unknown = _attempt(client, "ghost", "nope")
    assert (unknown.status_code, unknown.json()) == (401, body)  # no hint which names exist


def test_five_failures_lock_for_fifteen_minutes_then_unlock(
    client: TestClient,
    initialised,
    clock: FrozenClock,  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(4):
        assert _attempt(client, ADMIN, "wrong").status_code == 401
    locked = _attempt(client, ADMIN, "wrong")
    assert locked.status_code == 423
    assert locked.json()["details"]["minutes_left"] == 15
    # even the right password is refused while locked
    assert _attempt(client, ADMIN, ADMIN_PASSWORD).status_code == 423
    clock.advance(minutes=10)
    assert _attempt(client, ADMIN, ADMIN_PASSWORD).json()["details"]["minutes_left"] == 5
    clock.advance(minutes=5, seconds=1)
    assert _attempt(client, ADMIN, ADMIN_PASSWORD).status_code == 200


def test_admin_unlocks_a_locked_user(client: TestClient, admin: Api) -> None:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": "民警",
            "org_id": root_id(admin),
            "permissions": ["applications:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    user_id, _ = make_user(admin, client, "clerk1", root_id(admin), role["id"])
    for _ in range(5):
        _attempt(client, "clerk1", "wrong")
    assert _attempt(client, "clerk1", STRONG).status_code == 423
    listed = admin.get("/users", params={"q": "clerk1"}).json()["items"][0]
    assert listed["locked_until"] is not None
    assert admin.post(f"/users/{user_id}/unlock", 200).json()["locked_until"] is None
    assert _attempt(client, "clerk1", STRONG).status_code == 200
    actions = [
        e["action"] for e in admin.get("/audit", params={"entity_id": str(user_id)}).json()["items"]
    ]
    assert "auth.lockout" in actions and "user.unlock" in actions


def test_forced_first_change(client: TestClient, admin: Api) -> None:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": "民警",
            "org_id": root_id(admin),
            "permissions": ["orgs:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    created = admin.post(
        "/users",
        201,
        json={
            "username": "newbie",
            "name": "新人",
            "org_id": root_id(admin),
            "mobile": "13900000001",
            "role_ids": [role["id"]],
        },
    ).json()
    otp = created["initial_password"]
    response = _attempt(client, "newbie", otp)
    assert response.json()["must_change_password"] is True
    api = Api(client, response.json()["access_token"])
    denied = api.get("/orgs", 403).json()
    assert denied["code"] == "PASSWORD_CHANGE_REQUIRED"
    api.get("/permissions", 403)
    assert api.get("/me").json()["must_change_password"] is True  # /me stays open
    weak = api.post(
        "/auth/change-password", 422, json={"old_password": otp, "new_password": "newbie123"}
    )
    assert weak.json()["code"] == "PASSWORD_WEAK"
    assert "用户名" in weak.json()["message"]
    wrong_old = api.post(
        "/auth/change-password", 422, json={"old_password": "x", "new_password": STRONG}
    )
    assert wrong_old.json()["code"] == "PASSWORD_OLD_WRONG"
    api.post("/auth/change-password", 204, json={"old_password": otp, "new_password": STRONG})
    api.get("/me", 401)  # the change revoked every token, this one included
    fresh = login(client, "newbie", STRONG)
    fresh.get("/orgs", 200)
    assert _attempt(client, "newbie", otp).status_code == 401  # the one-time password is gone


def test_idle_and_absolute_token_expiry(client: TestClient, admin: Api, clock: FrozenClock) -> None:
    clock.advance(minutes=29)
    admin.get("/me", 200)
    clock.advance(minutes=29)
    admin.get("/me", 200)  # activity keeps it alive
    clock.advance(minutes=30)
    expired = admin.get("/me", 401).json()
    assert expired["code"] == "AUTH_TOKEN_EXPIRED" and expired["details"]["reason"] == "idle"

    busy = login(client, ADMIN, ADMIN_PASSWORD)
    for _ in range(12 * 4):  # every quarter hour for twelve hours
        clock.advance(minutes=15)
        response = busy.get("/me", None)
        if response.status_code != 200:
            break
    assert response.json()["details"]["reason"] == "absolute"


def test_logout_revokes_only_that_token(client: TestClient, admin: Api) -> None:
    other = login(client, ADMIN, ADMIN_PASSWORD)
    admin.post("/auth/logout", 204)
    assert admin.get("/me", 401).json()["code"] == "AUTH_TOKEN_INVALID"
    other.get("/me", 200)


def test_missing_or_garbage_token(client: TestClient, initialised) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/me").json()["code"] == "AUTH_REQUIRED"
    garbage = Api(client, "not-a-token").get("/me", 401).json()
    assert garbage["code"] == "AUTH_TOKEN_INVALID"


def test_change_password_with_sms_code(
    client: TestClient, admin: Api, sender: RecordingSender, clock: FrozenClock
) -> None:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": "民警",
            "org_id": root_id(admin),
            "permissions": ["orgs:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    _, api = make_user(admin, client, "smsuser", root_id(admin), role["id"])
    sent = api.post("/auth/verification-code", 202).json()
    assert sent["sent_to"] == "138****5678"
    assert sent["resend_after_seconds"] == 60 and sent["expires_in_seconds"] == 300
    assert len(sender.sent) == 1 and sender.sent[0].recipient == "13812345678"
    code = next(
        part for part in sender.sent[0].body.split("验证码")[1].split("，") if part.isdigit()
    )
    too_soon = api.post("/auth/verification-code", 429).json()
    assert too_soon["code"] == "VERIFICATION_CODE_TOO_SOON"
    wrong = "000000" if code != "000000" else "111111"
    bad = api.post(
        "/auth/change-password",
        422,
        json={"verification_code": wrong, "new_password": "Another#Pass7"},
    )
    assert bad.json()["code"] == "VERIFICATION_CODE_INVALID"
    api.post(
        "/auth/change-password",
        204,
        json={"verification_code": code, "new_password": "Another#Pass7"},
    )
    login(client, "smsuser", "Another#Pass7")
    # a used code cannot be replayed
    api2 = login(client, "smsuser", "Another#Pass7")
    api2.post(
        "/auth/change-password",
        422,
        json={"verification_code": code, "new_password": "Third#Pass77"},
    )
    clock.advance(minutes=6)
    api3 = login(client, "smsuser", "Another#Pass7")
    api3.post("/auth/verification-code", 202)
    assert len(sender.sent) == 2


def test_disabled_user_loses_session_and_cannot_login(client: TestClient, admin: Api) -> None:
    role = admin.post(
        "/roles",
        201,
        json={
            "name": "民警",
            "org_id": root_id(admin),
            "permissions": ["orgs:view"],
            "data_scope": {"kind": "own_org"},
        },
    ).json()
    user_id, api = make_user(admin, client, "leaver", root_id(admin), role["id"])
    admin.patch(f"/users/{user_id}", 200, json={"enabled": False})
    api.get("/me", 401)
    assert _attempt(client, "leaver", STRONG).json()["code"] == "AUTH_ACCOUNT_DISABLED"
    me = admin.get("/me").json()
    self_disable = admin.patch(f"/users/{me['id']}", 409, json={"enabled": False}).json()
    assert self_disable["code"] == "USER_SELF_ACTION"
