"""``python -m drivers fingerprint probe|enroll``: a technician's check of a module at a desk.

``probe`` answers "is this the module, and is it healthy?" in ``key: value`` lines a technician
can read out over the phone: everything the module reports, whether its notepad is usable, and
the identity the server files its templates under (the notepad's, or for a clone without one
the port identity of ``drivers.fingerprint.identity``; such a module is healthy, exit status 0).
``enroll`` runs the same guided enrolment the desk client runs, with the prompts printed as they
come, so a module can be tested without the client. ``empty --yes`` wipes the library (a used
clone without the notepad, before it is put on another port).
"""

from __future__ import annotations

import argparse
import sys

from drivers.fingerprint.codec import DEFAULT_ADDRESS
from drivers.fingerprint.device import DeviceIdentity, FingerprintModule, Prompt
from drivers.transport import SerialTransport


def add_commands(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="fingerprint_command", required=True)
    probe = commands.add_parser("probe", help="读取指纹模块的参数和状态")
    _connection_options(probe)
    probe.set_defaults(run=_probe)
    enroll = commands.add_parser("enroll", help="引导录入一枚指纹并保存到指定编号")
    _connection_options(enroll)
    enroll.add_argument("--id", type=int, required=True, dest="slot", help="保存到的指纹编号")
    enroll.add_argument(
        "--timeout", type=float, default=20.0, help="每次等待按压/抬起手指的秒数（默认 20）"
    )
    enroll.set_defaults(run=_enroll)
    empty = commands.add_parser("empty", help="清空指纹模块的指纹库（删除全部指纹）")
    _connection_options(empty)
    empty.add_argument("--yes", action="store_true", help="确认删除全部指纹")
    empty.set_defaults(run=_empty)


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", required=True, help="串口，如 COM3、/dev/ttyUSB0、fpsim://demo")
    parser.add_argument("--baud", type=int, default=57600, help="波特率（默认 57600）")
    parser.add_argument(
        "--password", type=lambda s: int(s, 0), default=0, help="模块口令（默认 0）"
    )
    parser.add_argument(
        "--address", type=lambda s: int(s, 16), default=DEFAULT_ADDRESS, help="模块地址（十六进制）"
    )
    parser.add_argument(
        "--settle", type=float, default=0.5, help="打开端口后等待模块就绪的秒数（默认 0.5）"
    )


def _connect(args: argparse.Namespace) -> FingerprintModule:
    module = FingerprintModule(
        SerialTransport(args.port, args.baud),
        address=args.address,
        password=args.password,
        settle=args.settle,
    )
    module.connect()
    return module


def _probe(args: argparse.Namespace) -> int:
    module = _connect(args)
    try:
        params = module.read_system_parameters()
        used = module.used_slots()
        free = next((s for s in range(params.library_size) if s not in used), None)
        identity = module.identity()
        rows = [
            ("port", args.port),
            ("baud", str(args.baud)),
            ("module baud", f"{params.baudrate} (N={params.baud_n})"),
            ("address", f"{params.address:08X}"),
            ("system id", f"0x{params.system_id:04X}"),
            ("library size", str(params.library_size)),
            ("template count", str(module.template_count())),
            ("first free slot", "none (library full)" if free is None else str(free)),
            ("security level", str(params.security_level)),
            ("packet size", str(params.packet_size)),
            ("status", params.status_text()),
            ("notepad", _notepad_text(identity)),
            ("device id", _identity_text(identity)),
        ]
    finally:
        module.close()
    for key, value in rows:
        print(f"{key}: {value}")
    return 0


def _notepad_text(identity: DeviceIdentity) -> str:
    if identity.notepad_problem is None:
        return "available"
    return f"unavailable ({identity.notepad_problem})"


def _identity_text(identity: DeviceIdentity) -> str:
    if identity.from_notepad:
        return identity.value
    return f"{identity.value} (fallback: tied to this workstation and port)"


def _show(prompt: Prompt) -> None:
    print(prompt.text, flush=True)


def _enroll(args: argparse.Namespace) -> int:
    module = _connect(args)
    try:
        result = module.enrol(slot=args.slot, on_prompt=_show, finger_timeout=args.timeout)
    finally:
        module.close()
    if result.duplicate is not None:
        print(
            f"该手指已录入，编号 {result.duplicate.slot}（比对得分 {result.duplicate.score}），"
            "未重复保存",
            file=sys.stderr,
        )
        return 1
    print(f"录入成功：编号 {result.slot}")
    return 0


def _empty(args: argparse.Namespace) -> int:
    """Wipe the library: for a used module without the notepad before it goes onto another port
    (it would inherit that port's identity, ``drivers.fingerprint.identity``)."""
    if not args.yes:
        print("将删除指纹模块中的全部指纹，确认请加 --yes", file=sys.stderr)
        return 2
    module = _connect(args)
    try:
        count = module.template_count()
        module.empty()
        left = module.template_count()
    finally:
        module.close()
    print(f"已清空指纹库：删除 {count} 枚，剩余 {left} 枚")
    return 0 if left == 0 else 1
