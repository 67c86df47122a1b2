"""``python -m drivers printer status|test-card --port PORT [--baud 9600]`` for technicians.

The default baud rate is 9600, the guide's own example for ``Pcom`` (the serial port is disabled
from the factory; whoever enabled it most likely typed that). A printer set faster (``Rcom;1``
shows it) needs ``--baud``. ``--text`` is for a port set without the ACK/NACK protocol.

Each command handles device errors itself — ``错误 [CODE]：message`` on stderr, exit status 1 —
so it behaves the same under ``drivers.__main__`` and on its own.
"""

from __future__ import annotations

import argparse
import sys

from drivers.errors import DeviceError
from drivers.evolis.device import DEFAULT_BAUD, EvolisPrinter
from drivers.evolis.test_card import build_test_card
from drivers.transport import SerialTransport


def add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="printer_command", required=True)

    status = commands.add_parser("status", help="读取证卡打印机型号、固件、色带和计数器")
    _port_arguments(status)
    status.set_defaults(run=_status)

    card = commands.add_parser("test-card", help="打印一张测试卡（检查方向、边距和清晰度）")
    _port_arguments(card)
    card.add_argument("--no-overlay", action="store_true", help="不打印保护层")
    card.add_argument("--feeder", choices=("F", "M", "B"), default="F", help="进卡方式")
    card.set_defaults(run=_test_card)


def _port_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", required=True, help="串口，例如 COM3、/dev/ttyUSB0、evosim://demo"
    )
    parser.add_argument(
        "--baud", type=int, default=DEFAULT_BAUD, help=f"波特率（默认 {DEFAULT_BAUD}）"
    )
    parser.add_argument(
        "--text", action="store_true", help="打印机串口未启用 ACK/NACK 协议（应答为 OK/ERR 文本）"
    )


def _printer(args: argparse.Namespace) -> EvolisPrinter:
    return EvolisPrinter(SerialTransport(args.port, args.baud), ack_nack=not args.text)


def _failed(err: DeviceError) -> int:
    print(f"错误 [{err.code}]：{err}", file=sys.stderr)
    return 1


def _status(args: argparse.Namespace) -> int:
    try:
        with _printer(args) as printer:
            status = printer.status()
    except DeviceError as err:
        return _failed(err)
    for key, value in status.lines():
        print(f"{key}: {value}")
    return 0


def _test_card(args: argparse.Namespace) -> int:
    def progress(label: str, fraction: float) -> None:
        print(f"{fraction:4.0%} {label}", flush=True)

    try:
        with _printer(args) as printer:
            printer.print_card(
                build_test_card(),
                overlay=not args.no_overlay,
                feeder=args.feeder,
                on_progress=progress,
            )
    except DeviceError as err:
        return _failed(err)
    print("测试卡已打印")
    return 0
