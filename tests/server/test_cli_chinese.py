"""sgss-server speaks Chinese in Click's and Typer's own words too, whatever the shell's locale."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools.compile_messages import LOCALE, mo_bytes, read_po


def run(*args: str, lang: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": lang, "LC_ALL": lang, "COLUMNS": "100", "NO_COLOR": "1"}
    env.pop("LANGUAGE", None)
    return subprocess.run(
        [sys.executable, "-m", "server.cli.main", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("lang", ["C", "en_US.UTF-8"])
def test_help_panels_and_errors_are_chinese_in_an_english_shell(lang: str) -> None:
    shown = run("--help", lang=lang)
    assert shown.returncode == 0
    assert "选项" in shown.stdout and "命令" in shown.stdout
    assert "Options" not in shown.stdout and "Commands" not in shown.stdout
    wrong = run("no-such-command", lang=lang)
    assert wrong.returncode == 2
    assert "没有命令 'no-such-command'" in wrong.stderr
    assert "查看帮助" in wrong.stderr and "错误" in wrong.stderr


def test_the_compiled_catalogue_is_the_source_catalogue() -> None:
    for po in LOCALE.glob("*/LC_MESSAGES/*.po"):
        compiled = Path(po.with_suffix(".mo"))
        assert compiled.read_bytes() == mo_bytes(read_po(po.read_text(encoding="utf-8"))), (
            "run python -m tools.compile_messages"
        )
