"""``serve`` writes a line per request only when asked (``SGSS_ACCESS_LOG``): the line is I/O on
every request, and every change is in the audit log anyway."""

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from server import heap
from server.cli.main import app as cli
from tests.served import init_with_admin


@pytest.mark.parametrize(("setting", "expected"), [(None, False), ("true", True)])
def test_serve_writes_an_access_log_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str | None, expected: bool
) -> None:
    url = f"sqlite:///{tmp_path / 'served.db'}"
    init_with_admin(url)
    for name in ("SGSS_TLS_CERT", "SGSS_TLS_KEY", "SGSS_ACCESS_LOG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SGSS_DATABASE_URL", url)
    if setting is not None:
        monkeypatch.setenv("SGSS_ACCESS_LOG", setting)
    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda _app, **options: started.update(options))
    monkeypatch.setattr(heap, "settle", lambda: None)  # this process is the test run's own
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 0, result.output
    assert started["access_log"] is expected
