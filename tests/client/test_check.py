import os
import subprocess
import sys


def _check(server: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "client.main", "--check", "--server", server],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_passes_against_a_running_server(server: str) -> None:
    result = _check(server)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert [line[:4] for line in lines] == ["[通过]"] * 4
    assert "中文字体" in result.stdout and "数据库 sqlite" in result.stdout


def test_check_fails_when_the_server_is_unreachable() -> None:
    result = _check("http://127.0.0.1:9")
    assert result.returncode == 1
    assert "[失败] 服务器：无法连接服务器" in result.stdout


def test_shipped_font_stands_in_when_the_system_has_no_cjk_font(tmp_path) -> None:  # type: ignore[no-untyped-def]
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd">'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>"
    )
    result = subprocess.run(
        [sys.executable, "-m", "client.main", "--check", "--server", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "FONTCONFIG_FILE": str(conf)},
    )
    assert "[通过] 字体：中文字体：WenQuanYi Micro Hei（随软件附带）" in result.stdout


def test_the_font_order_is_the_documented_one() -> None:
    """Droid Sans Fallback sorts first alphabetically but is no one's choice: the desk and
    ``--check`` take the first of CJK_FONTS, the order the README documents."""
    from pathlib import Path

    from client.resources import CJK_FONTS, preferred_cjk_font

    installed = ["Droid Sans Fallback", "WenQuanYi Micro Hei", "Noto Sans CJK SC"]
    assert preferred_cjk_font(installed) == "Noto Sans CJK SC"
    assert preferred_cjk_font(["Droid Sans Fallback", "WenQuanYi Micro Hei"]) == (
        "WenQuanYi Micro Hei"
    )
    assert preferred_cjk_font(["Droid Sans Fallback"]) is None  # then the shipped font loads
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    listed = [family for family in CJK_FONTS if f"`{family}`" in readme]
    assert listed == list(CJK_FONTS)
    positions = [readme.index(f"`{family}`") for family in CJK_FONTS]
    assert positions == sorted(positions)  # documented in the same order
