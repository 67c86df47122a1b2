"""Client tests drive real widgets against a real server process on a temporary SQLite database.
Settings live in a temp folder and the OS credential store is replaced by an in-memory one."""

import gc
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from client.views.reauth import ask_password
from shared.schemas.roles import DataScope, RoleCreate
from shared.schemas.users import UserCreate
from tests.served import ADMIN, ADMIN_PASSWORD, serve_with_admin

STRONG = "Qiantang#River9"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.store.pop((service, username), None)


@pytest.fixture(autouse=True)
def ui_thread_collector(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """As in the desk (client.main): cycles are collected on the UI thread, never a worker's;
    the test's garbage is collected here before Python's own collection resumes."""
    from client.qt.collector import install

    collector = install(qapp)
    yield
    collector.stop()
    gc.collect()
    collector.deleteLater()


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def prefs(tmp_path: Path) -> Preferences:
    return Preferences(QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``sgss-server serve`` on a fresh SQLite database with an administrator."""
    db = tmp_path_factory.mktemp("server") / "sgss.db"
    yield from serve_with_admin(f"sqlite:///{db}")


@pytest.fixture(scope="module")
def admin_api(server: str) -> ApiClient:
    api = ApiClient(server)
    api.login(ADMIN, ADMIN_PASSWORD)
    return api


def new_user(admin_api: ApiClient, username: str, permissions: list[str]) -> str:
    """A user holding exactly ``permissions``; returns the one-time password."""
    root = admin_api.me().org_id
    role = admin_api.create_role(
        RoleCreate(
            name=f"角色{username}",
            org_id=root,
            permissions=permissions,
            data_scope=DataScope(kind="own_subtree"),
        )
    )
    created = admin_api.create_user(
        UserCreate(
            username=username,
            name=f"用户{username}",
            org_id=root,
            mobile="13812345678",
            role_ids=[role.id],
        )
    )
    return created.initial_password


def activated_user(admin_api: ApiClient, username: str, permissions: list[str]) -> None:
    one_time = new_user(admin_api, username, permissions)
    api = ApiClient(admin_api.base_url)
    api.login(username, one_time)
    api.change_password(STRONG, old_password=one_time)


@pytest.fixture
def context(server: str, prefs: Preferences, qtbot) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    prefs.server_url = server
    runner = JobRunner()
    yield Session(ApiClient(server), runner, prefs, reauthenticate=ask_password)
    runner.cancel_all()
    runner.wait(10000)
