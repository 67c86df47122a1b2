"""The demo's embedded server: ``sgss-server serve`` as a child process on a free loopback port.

The client never imports the server; it starts it like any other program and stops it on exit.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

SERVER_TLS_SETTINGS = ("SGSS_TLS_CERT", "SGSS_TLS_KEY")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def data_dir_for(db: Path) -> Path:
    """Where an embedded database keeps its files (materials, documents): beside it, so the
    demo's database and its files are made and removed together."""
    return db.resolve().parent / "data"


class EmbeddedServer:
    def __init__(
        self, database_url: str, *, port: int | None = None, env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.extra_env = env or {}
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60.0) -> str:
        # plain HTTP on loopback, whatever a server installed on this machine is set to serve
        inherited = {k: v for k, v in os.environ.items() if k not in SERVER_TLS_SETTINGS}
        env = {**inherited, **self.extra_env, "SGSS_DATABASE_URL": self.database_url}
        command = [
            sys.executable,
            "-m",
            "server.cli.main",
            "serve",
            "--port",
            str(self.port),
            "--watch-stdin",
        ]
        # The server exits when this pipe closes, so it never outlives the client.
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"内置服务器启动失败（退出码 {self.process.returncode}）")
            try:
                if requests.get(f"{self.url}/api/v1/health", timeout=1).ok:
                    return self.url
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("内置服务器启动超时")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            if self.process.stdin:
                self.process.stdin.close()
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def embedded_for_file(db: Path, *, port: int | None = None) -> EmbeddedServer:
    """An embedded server on the SQLite file ``db`` with its data folder beside it."""
    env = {"SGSS_DATA_DIR": str(data_dir_for(db))}
    return EmbeddedServer(f"sqlite:///{db.resolve()}", port=port, env=env)
