"""SQLite commit durability follows ``SGSS_SQLITE_SYNCHRONOUS`` (docs/DURABILITY.md): ``full``
(every answered commit is on disk) unless ``normal`` is chosen."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from server.app import create_app
from server.config import Settings
from server.db.session import create_db_engine

FULL, NORMAL = 2, 1  # PRAGMA synchronous values


def _mode(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar())


def test_commits_are_durable_by_default(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        assert _mode(engine) == FULL
        assert Settings(database_url=f"sqlite:///{tmp_path / 'a.db'}").sqlite_synchronous == "full"
    finally:
        engine.dispose()


def test_the_server_commits_as_configured(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        data_dir=tmp_path / "data",
        sqlite_synchronous="normal",
    )
    app = create_app(settings)
    try:
        assert _mode(app.state.engine) == NORMAL
    finally:
        app.state.engine.dispose()


def test_an_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(database_url=f"sqlite:///{tmp_path / 'c.db'}", sqlite_synchronous="off")
    with pytest.raises(ValueError, match="sqlite_synchronous"):
        create_db_engine(f"sqlite:///{tmp_path / 'c.db'}", sqlite_synchronous="off")
