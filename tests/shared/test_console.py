"""Every command-line entry point writes Chinese into a redirected stream whose code page has none
(Windows' cp1252 for a file or a pipe), rather than dying with ``UnicodeEncodeError``."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.console import ensure_unicode_output


def _run_redirected(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """Run ``python -m …`` with stdout and stderr redirected to files under a cp1252 encoding."""
    out, err = tmp_path / "out.txt", tmp_path / "err.txt"
    env = {
        **os.environ,
        "PYTHONIOENCODING": "cp1252",
        "SGSS_DATABASE_URL": f"sqlite:///{tmp_path / 'sgss.db'}",
        "SGSS_DATA_DIR": str(tmp_path / "data"),
    }
    with out.open("wb") as stdout, err.open("wb") as stderr:
        code = subprocess.run(
            [sys.executable, "-m", *args], stdout=stdout, stderr=stderr, env=env, timeout=120
        ).returncode
    return code, out.read_bytes().decode("utf-8"), err.read_bytes().decode("utf-8")


def test_server_cli_output_survives_a_cp1252_redirect(tmp_path: Path) -> None:
    code, out, err = _run_redirected(tmp_path, "server.cli.main", "init-db")
    assert code == 0, err
    assert "数据库已就绪（sqlite）；根机构：" in out
    code, out, err = _run_redirected(tmp_path, "server.cli.main", "--help")
    assert code == 0, err
    assert "SGSS 服务器管理命令" in out


def test_server_cli_errors_survive_a_cp1252_redirect(tmp_path: Path) -> None:
    assert _run_redirected(tmp_path, "server.cli.main", "init-db")[0] == 0
    code, _, err = _run_redirected(tmp_path, "server.cli.main", "user", "unlock", "nobody")
    assert code == 1
    assert "错误：用户 nobody 不存在" in err and "Traceback" not in err


def test_drivers_cli_output_survives_a_cp1252_redirect(tmp_path: Path) -> None:
    code, out, err = _run_redirected(tmp_path, "drivers", "--help")
    assert code == 0, err
    assert "设备诊断工具" in out


def test_desk_check_output_survives_a_cp1252_redirect(tmp_path: Path) -> None:
    code, out, err = _run_redirected(
        tmp_path, "client.main", "--check", "--server", "http://127.0.0.1:9"
    )
    assert "[通过] 资源" in out and "[失败] 服务器：无法连接服务器" in out, err
    assert code == 1 and "Traceback" not in err


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_a_stream_that_can_write_chinese_is_left_alone(
    monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    monkeypatch.setattr(sys, "stdout", stream)
    ensure_unicode_output()
    assert stream.encoding == encoding


def test_a_cp1252_stream_is_switched_to_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="cp1252")
    stream.write("ascii first|")
    monkeypatch.setattr(sys, "stdout", stream)
    ensure_unicode_output()
    print("保安", file=stream, flush=True)
    assert raw.getvalue().decode("utf-8") == "ascii first|保安\n"
