"""``python -m drivers printer status|test-card`` against evosim:// printers.

Every test runs through a parser built here around ``drivers.evolis.cli.add_commands`` (the way
``drivers.__main__`` mounts it under ``printer``); the real entry point is tested too when the
fingerprint CLI it also imports exists.
"""

import argparse
import importlib
import uuid
from collections.abc import Callable

import pytest

from drivers.evolis import cli
from drivers.evolis.device import DEFAULT_BAUD
from drivers.evolis.panel import Panel
from drivers.evolis.simulator import EvolisSimulator
from drivers.evolis.test_card import build_test_card
from drivers.sim import registry


def run_own(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m drivers")
    commands = parser.add_subparsers(dest="command", required=True)
    cli.add_commands(commands.add_parser("printer"))
    args = parser.parse_args(argv)
    return int(args.run(args))


def run_main(argv: list[str]) -> int:
    try:  # drivers.__main__ also mounts the fingerprint CLI, written by another engineer
        importlib.import_module("drivers.fingerprint.cli")
    except Exception as err:
        pytest.skip(f"drivers.fingerprint.cli is not importable yet: {err!r}")
    from drivers.__main__ import main

    return main(argv)


RUNNERS = [pytest.param(run_own, id="own-parser"), pytest.param(run_main, id="main")]


def printer(**settings: object) -> tuple[str, EvolisSimulator]:
    name = f"cli-{uuid.uuid4().hex[:10]}"
    sim = EvolisSimulator()
    for key, value in settings.items():
        setattr(sim, key, value)
    registry.install("evosim", name, sim)
    return f"evosim://{name}", sim


@pytest.mark.parametrize("run", RUNNERS)
def test_status(run: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]) -> None:
    port, sim = printer()
    assert run(["printer", "status", "--port", port]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "model: Evolis Dualys" in out
    assert "firmware: DY3 V03.04.01" in out
    assert "serial: DY0123456" in out
    assert "ribbon: ko" in out
    assert "counter.cards: 0" in out
    assert all(": " in line for line in out)
    assert sim.host_baudrate == DEFAULT_BAUD == 9600


@pytest.mark.parametrize("run", RUNNERS)
def test_test_card(run: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]) -> None:
    port, sim = printer()
    assert run(["printer", "test-card", "--port", port, "--baud", "19200"]) == 0
    assert capsys.readouterr().out.strip().endswith("测试卡已打印")
    (card,) = sim.output
    assert card.fate == "ejected"
    assert card.front == {"k": build_test_card().to_bytes(), "o": Panel.full().to_bytes()}
    assert sim.host_baudrate == 19200


def test_test_card_without_overlay_from_the_manual_slot(capsys: pytest.CaptureFixture[str]) -> None:
    port, sim = printer(manual_card=True, cards=0)
    assert run_own(["printer", "test-card", "--port", port, "--no-overlay", "--feeder", "M"]) == 0
    assert set(sim.output[0].front) == {"k"}


@pytest.mark.parametrize("run", RUNNERS)
def test_test_card_failure_prints_the_chinese_message(
    run: Callable[[list[str]], int], capsys: pytest.CaptureFixture[str]
) -> None:
    port, sim = printer(cards=0)
    assert run(["printer", "test-card", "--port", port]) == 1
    err = capsys.readouterr().err
    assert "进卡器无卡，请放入空白卡" in err
    assert sim.output == []


def test_interrupted_test_card(capsys: pytest.CaptureFixture[str]) -> None:
    port, sim = printer()
    sim.on_command("Dbc", sim.open_cover, nth=2)
    assert run_own(["printer", "test-card", "--port", port]) == 1
    err = capsys.readouterr().err
    assert "[PRINT_INTERRUPTED]" in err and "未完成的卡片已退入废卡盒" in err
    assert [c.fate for c in sim.output] == ["rejected"]


def test_text_dialect_and_missing_port(capsys: pytest.CaptureFixture[str]) -> None:
    port, _ = printer(ack_nack=False)
    assert run_own(["printer", "status", "--port", port, "--text"]) == 0
    assert "model: Evolis Dualys" in capsys.readouterr().out
    assert run_own(["printer", "status", "--port", "evosim-nope://x"]) == 1
    assert "错误 [PORT_NOT_FOUND]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_own(["printer", "status"])  # --port is required
