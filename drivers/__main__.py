"""Diagnostics for technicians: ``python -m drivers ports|fingerprint …|printer …``.

Exit status 0 on success, 1 when the device failed (the Chinese message is printed on stderr),
2 on a usage error. PORT is anything ``serial.serial_for_url`` accepts, simulators included.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from drivers.errors import DeviceError
from drivers.ports import available_ports
from shared.console import ensure_unicode_output


def _ports(_: argparse.Namespace) -> int:
    ports = available_ports()
    if not ports:
        print("未发现串口设备")
        return 1
    for port in ports:
        vidpid = f"{port.vid:04X}:{port.pid:04X}" if port.vid is not None and port.pid else "-"
        print(f"{port.device}\t{vidpid}\t{port.bridge or '-'}\t{port.description}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from drivers.evolis import cli as printer_cli
    from drivers.fingerprint import cli as fingerprint_cli

    parser = argparse.ArgumentParser(prog="python -m drivers", description="设备诊断工具")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("ports", help="列出串口").set_defaults(run=_ports)
    fingerprint_cli.add_commands(commands.add_parser("fingerprint", help="指纹采集模块"))
    printer_cli.add_commands(commands.add_parser("printer", help="证卡打印机"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    ensure_unicode_output()
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except DeviceError as err:
        print(f"错误 [{err.code}]：{err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("已取消", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
