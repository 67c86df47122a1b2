"""``python -m drivers fingerprint probe|enroll`` against ``fpsim://`` ports."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence

import pytest

import drivers.sim.protocol_fpsim  # noqa: F401  (registers the fpsim kind)
from drivers.errors import DeviceError
from drivers.fingerprint import cli
from drivers.fingerprint.simulator import FingerprintSimulator
from drivers.sim import registry

PORT = "fpsim://cli-test?finger=A"


def _own_main(argv: Sequence[str]) -> int:
    """``drivers.__main__.main`` minus the printer commands, for a checkout without them."""
    parser = argparse.ArgumentParser(prog="python -m drivers")
    commands = parser.add_subparsers(dest="command", required=True)
    cli.add_commands(commands.add_parser("fingerprint"))
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except DeviceError as err:
        print(f"错误 [{err.code}]：{err}", file=sys.stderr)
        return 1


def run(*argv: str) -> int:
    try:
        import drivers.evolis.cli  # noqa: F401
    except ImportError:
        return _own_main(["fingerprint", *argv])
    from drivers.__main__ import main

    return main(["fingerprint", *argv])


@pytest.fixture(autouse=True)
def fresh_simulators() -> Iterator[None]:
    registry.forget("fpsim")
    yield
    registry.forget("fpsim")


def sim() -> FingerprintSimulator:
    device = registry.device("fpsim", "cli-test")
    assert isinstance(device, FingerprintSimulator)
    return device


def probe(port: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    assert run("probe", "--port", port, "--settle", "0") == 0
    lines = capsys.readouterr().out.splitlines()
    return dict(line.split(": ", 1) for line in lines)


def test_probe_prints_key_value_lines(capsys: pytest.CaptureFixture[str]) -> None:
    values = probe(PORT, capsys)
    assert list(values) == [
        "port",
        "baud",
        "module baud",
        "address",
        "system id",
        "library size",
        "template count",
        "first free slot",
        "security level",
        "packet size",
        "status",
        "notepad",
        "device id",
    ]
    assert values["port"] == PORT
    assert values["baud"] == "57600"
    assert values["module baud"] == "57600 (N=6)"
    assert values["address"] == "FFFFFFFF"
    assert values["system id"] == "0x0000"
    assert values["library size"] == "300"
    assert values["template count"] == "0"
    assert values["first free slot"] == "0"
    assert values["security level"] == "3"
    assert values["packet size"] == "128"
    assert values["status"].startswith("0x")
    assert values["notepad"] == "available"
    assert len(values["device id"]) == 32


def test_probe_of_a_module_without_notepad_reports_everything_else(
    capsys: pytest.CaptureFixture[str],
) -> None:
    clone = "fpsim://cli-test?notepad=0&library=162"
    values = probe(clone, capsys)
    assert values["notepad"] == "unavailable (模块对“读记事本”指令应答 0x01)"
    ident, note = values["device id"].split(" ", 1)
    assert ident.startswith("port-") and len(ident) == 37
    assert note == "(fallback: tied to this workstation and port)"
    assert values["library size"] == "162" and values["template count"] == "0"
    assert values["status"] == "0x0004 (password verified)"
    sim().store_finger(0, "A")
    again = probe(clone, capsys)
    assert again["device id"] == values["device id"]  # the same module on the same port
    assert again["template count"] == "1" and again["first free slot"] == "1"
    assert sim().notepad[0] == bytes(32)


def test_probe_honours_url_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("probe", "--port", "fpsim://cli-test?library=200", "--settle", "0") == 0
    assert "library size: 200" in capsys.readouterr().out.splitlines()


def test_probe_at_the_wrong_baud_fails_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("probe", "--port", PORT, "--baud", "9600", "--settle", "0") == 1
    assert "波特率" in capsys.readouterr().err


def test_enroll_is_guided_and_stores_at_the_given_id(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("enroll", "--port", PORT, "--id", "5", "--settle", "0") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "请将手指平放在采集窗口",
        "正在比对指纹库…",
        "请抬起手指",
        "请再次按压同一手指",
        "正在保存指纹…",
        "录入成功：编号 5",
    ]
    assert sim().slots_of("A") == [5]


def test_enroll_refuses_a_finger_already_enrolled(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("enroll", "--port", PORT, "--id", "5", "--settle", "0") == 0
    capsys.readouterr()
    assert run("enroll", "--port", PORT, "--id", "6", "--settle", "0") == 1
    captured = capsys.readouterr()
    assert "该手指已录入，编号 5" in captured.err
    assert sim().slots_of("A") == [5]


def test_enroll_with_an_impossible_id_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("enroll", "--port", PORT, "--id", "999", "--settle", "0") == 1
    assert "超出指纹库范围" in capsys.readouterr().err


def test_enroll_requires_an_id() -> None:
    with pytest.raises(SystemExit) as info:
        run("enroll", "--port", PORT)
    assert info.value.code == 2


def test_empty_needs_yes_then_wipes_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("probe", "--port", PORT, "--settle", "0") == 0
    sim().store_finger(3, "A")
    sim().store_finger(9, "B")
    assert run("empty", "--port", PORT, "--settle", "0") == 2
    assert "--yes" in capsys.readouterr().err and len(sim().library) == 2
    assert run("empty", "--port", PORT, "--settle", "0", "--yes") == 0
    assert capsys.readouterr().out.splitlines()[-1] == "已清空指纹库：删除 2 枚，剩余 0 枚"
    assert sim().library == {}
