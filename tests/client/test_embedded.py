"""The demo's embedded server never outlives the client, even one that is killed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from client.embedded import EmbeddedServer
from tests.served import CHEAP_ARGON, init_with_admin

PARENT = """
import sys, time
from client.embedded import EmbeddedServer
server = EmbeddedServer(sys.argv[1])
print(server.start(), flush=True)
time.sleep(600)
"""


def test_server_stops_when_the_client_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    env = {**os.environ, **CHEAP_ARGON, "SGSS_DATABASE_URL": f"sqlite:///{db}"}
    subprocess.run(
        [sys.executable, "-m", "server.cli.main", "init-db"],
        env=env,
        check=True,
        capture_output=True,
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, f"sqlite:///{db}"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = parent.stdout.readline().strip()
    assert requests.get(f"{url}/api/v1/health", timeout=5).json()["status"] == "ok"
    parent.send_signal(signal.SIGKILL)  # no clean-up code of the client runs
    parent.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/api/v1/health", timeout=1)
        except requests.ConnectionError:
            return
        time.sleep(0.3)
    raise AssertionError("the embedded server outlived its client")


def test_embedded_server_ignores_a_tls_setting_meant_for_a_real_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo talks plain HTTP on loopback even on a machine whose environment configures
    ``sgss-server serve`` for TLS."""
    db = tmp_path / "demo.db"
    init_with_admin(f"sqlite:///{db}")
    monkeypatch.setenv("SGSS_TLS_CERT", str(tmp_path / "server.pem"))
    monkeypatch.setenv("SGSS_TLS_KEY", str(tmp_path / "server.key"))
    server = EmbeddedServer(f"sqlite:///{db}", env=CHEAP_ARGON)
    try:
        url = server.start()
        assert requests.get(f"{url}/api/v1/health", timeout=5).json()["status"] == "ok"
    finally:
        server.stop()
