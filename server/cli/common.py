"""What every command group of ``sgss-server`` shares: settings, a session, the clock, failing."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.clock import SystemClock
from server.config import Settings
from server.db.session import create_db_engine, create_session_factory, ensure_sqlite_folder


@dataclass
class Env:
    settings: Settings
    engine: Engine

    @contextmanager
    def session(self) -> Iterator[Session]:
        with create_session_factory(self.engine)() as session:
            yield session


def open_env(settings: Settings | None = None) -> Env:
    settings = settings or Settings()
    ensure_sqlite_folder(settings.database_url)
    engine = create_db_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    return Env(settings, engine)


def utc_now() -> datetime:
    return SystemClock().now()


def fail(message: str, details: object = None) -> None:
    typer.echo(f"错误：{message}", err=True)
    if isinstance(details, list):
        for item in details:
            typer.echo(f"  {describe(item)}", err=True)
    raise typer.Exit(1)


def describe(item: object) -> str:
    if isinstance(item, dict) and "row" in item:
        return f"第{item['row']}行 [{item['column']}] {item['message']}"
    return str(item)
