"""Modules without the notepad (clones answering 0x01 to ReadNotepad): the exact bytes of that
answer, the port identity the driver falls back to, and what it stays tied to.

Byte-level tests talk to a scripted transport that replays a clone's answers byte for byte; the
others use the simulator's ``notepad = False`` fault over the in-process URL.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest

from drivers.errors import DeviceTimeoutError
from drivers.fingerprint import codec
from drivers.fingerprint.codec import Op, SystemParameters
from drivers.fingerprint.device import Allowances, FingerprintModule
from drivers.fingerprint.identity import normalise_port, port_id
from drivers.fingerprint.simulator import FingerprintSimulator
from drivers.sim import registry
from drivers.transport import SerialTransport

FAST = Allowances(
    command=0.1, capture=0.1, search=0.1, flash=0.1, erase=0.1, idle_gap=0.05, margin=2.0
)
PREFIX = "EF01 FFFFFFFF"
CLONE_PARAMS = SystemParameters(
    status=0x0004,
    system_id=0x0000,
    library_size=162,
    security_level=3,
    address=0xFFFFFFFF,
    packet_size_code=2,
    baud_n=6,
)


def frame(hex_text: str) -> bytes:
    return bytes.fromhex(f"{PREFIX} {hex_text}")


Expected = bytes | Callable[[bytes], bool]


class ScriptedClone:
    """A transport that checks every command byte for byte and answers from a script."""

    def __init__(self, script: list[tuple[Expected, bytes]], url: str = "COM7") -> None:
        self.script = list(script)
        self.url = url
        self.baudrate = 57600
        self.written: list[bytes] = []
        self._pending = b""
        self._open = False

    def open(self) -> None:
        self._open = True

    def close(self) -> None:
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def write(self, data: bytes) -> None:
        self.written.append(data)
        expected, reply = self.script.pop(0)
        if callable(expected):
            assert expected(data), data.hex(" ")
        else:
            assert data.hex(" ") == expected.hex(" ")
        self._pending += reply

    def read_available(self, deadline: float) -> bytes:
        data, self._pending = self._pending, b""
        if not data:
            time.sleep(max(0.0, min(0.01, deadline - time.monotonic())))
        return data

    def read_exact(self, n: int, deadline: float) -> bytes:
        raise AssertionError("the fingerprint driver never reads fixed lengths")

    def read_until(self, terminator: bytes, deadline: float, *, limit: int = 65536) -> bytes:
        raise AssertionError("the fingerprint driver never reads to a terminator")

    def flush_input(self) -> None:
        self._pending = b""


VFY_PWD = (frame("01 0007 13 00000000 001B"), frame("07 0003 00 000A"))
READ_SYS_PARA = (
    frame("01 0003 0F 0013"),
    codec.encode_packet(codec.DEFAULT_ADDRESS, codec.PID_ACK, CLONE_PARAMS.encode()),
)
READ_NOTEPAD_0 = frame("01 0004 19 00 001E")
ACK_01 = frame("07 0003 01 000B")  # the clone's whole answer: an acknowledge carrying 0x01


def test_a_clone_answering_01_to_read_notepad_gets_the_port_identity_byte_for_byte() -> None:
    clone = ScriptedClone(
        [VFY_PWD, READ_SYS_PARA, (READ_NOTEPAD_0, ACK_01), (READ_NOTEPAD_0, ACK_01)]
    )
    module = FingerprintModule(clone, settle=0, allowances=FAST, station="machine/ws-07")
    module.connect()
    identity = module.identity()
    assert clone.script == []  # asked twice (one 01 may be a garbled command), never written
    assert identity.value == port_id("machine/ws-07", "COM7", CLONE_PARAMS)
    assert identity.value.startswith("port-") and len(identity.value) == 37
    assert identity.notepad_problem == "模块对“读记事本”指令应答 0x01"
    assert not identity.from_notepad
    assert module.device_id() == identity.value  # read once per connection: no more bytes


def test_one_garbled_read_notepad_is_not_taken_for_a_missing_notepad() -> None:
    ours = b"SGSS-FP1" + bytes(range(16))
    page = codec.encode_packet(
        codec.DEFAULT_ADDRESS, codec.PID_ACK, b"\x00" + ours.ljust(32, b"\0")
    )
    clone = ScriptedClone(
        [VFY_PWD, READ_SYS_PARA, (READ_NOTEPAD_0, ACK_01), (READ_NOTEPAD_0, page)]
    )
    module = FingerprintModule(clone, settle=0, allowances=FAST, station="machine/ws-07")
    module.connect()
    assert module.identity().value == bytes(range(16)).hex()
    assert module.identity().from_notepad


def test_a_clone_that_reads_blank_but_refuses_writes_gets_the_port_identity() -> None:
    blank = codec.encode_packet(codec.DEFAULT_ADDRESS, codec.PID_ACK, bytes(33))

    def write_notepad_0(data: bytes) -> bool:  # the random UUID in it cannot be predicted
        return data[:11] == frame("01 0024 18 00") and data[11:19] == b"SGSS-FP1"

    script = [VFY_PWD, READ_SYS_PARA, (READ_NOTEPAD_0, blank)]
    clone = ScriptedClone([*script, (write_notepad_0, ACK_01), (write_notepad_0, ACK_01)])
    module = FingerprintModule(clone, settle=0, allowances=FAST, station="machine/ws-07")
    module.connect()
    identity = module.identity()
    assert clone.script == []
    assert identity.notepad_problem == "模块对“写记事本”指令应答 0x01"
    assert identity.value == port_id("machine/ws-07", "COM7", CLONE_PARAMS)


def test_a_clone_that_acknowledges_writes_and_keeps_nothing_gets_the_port_identity() -> None:
    blank = codec.encode_packet(codec.DEFAULT_ADDRESS, codec.PID_ACK, bytes(33))

    def write_notepad_0(data: bytes) -> bool:
        return data[:11] == frame("01 0024 18 00")

    script = [VFY_PWD, READ_SYS_PARA, (READ_NOTEPAD_0, blank)]
    ok = frame("07 0003 00 000A")
    clone = ScriptedClone([*script, (write_notepad_0, ok), (READ_NOTEPAD_0, blank)])
    module = FingerprintModule(clone, settle=0, allowances=FAST, station="machine/ws-07")
    module.connect()
    assert module.identity().notepad_problem == "写入记事本后读回仍为空白"
    assert clone.script == []


# the simulator's fault ---------------------------------------------------------------------------
def test_simulator_without_notepad_answers_like_the_clone() -> None:
    sim = FingerprintSimulator()
    sim.notepad_supported = False
    for command in (codec.read_notepad(0), codec.write_notepad(0, b"x"), codec.read_notepad(15)):
        sim.host_write(codec.command(codec.DEFAULT_ADDRESS, command), 57600)
        assert sim.host_read(4096, 0.05).hex(" ") == ACK_01.hex(" ")
    assert sim.notepad[0] == bytes(32)  # nothing was written
    sim.configure({"notepad": "1"})
    sim.host_write(codec.command(codec.DEFAULT_ADDRESS, codec.read_notepad(0)), 57600)
    assert sim.host_read(4096, 0.05) == frame("07 0023 00") + bytes(32) + bytes.fromhex("002A")
    sim.configure({"notepad": "0"})
    assert not sim.notepad_supported


@pytest.fixture
def sim() -> Iterator[tuple[FingerprintSimulator, str]]:
    registry.forget("fpsim")
    device = FingerprintSimulator()
    device.notepad_supported = False
    name = f"clone-{uuid.uuid4().hex[:8]}"
    registry.install("fpsim", name, device)
    yield device, f"fpsim://{name}"
    registry.forget("fpsim")


def connected(port: str, station: str = "machine/ws-07") -> FingerprintModule:
    module = FingerprintModule(SerialTransport(port), settle=0, allowances=FAST, station=station)
    module.connect()
    return module


def test_the_port_identity_is_stable_for_the_same_module_port_and_workstation(
    sim: tuple[FingerprintSimulator, str],
) -> None:
    device, port = sim
    first = connected(port)
    ident = first.device_id()
    first.close()
    again = connected(f"{port}?finger=A")  # URL options are not part of the port
    assert again.device_id() == ident
    again.close()
    elsewhere = connected(port, station="machine/ws-08")
    assert elsewhere.device_id() != ident  # another workstation: another identity
    elsewhere.close()
    assert device.commands.count(Op.WRITE_NOTEPAD) == 0
    assert device.notepad[0] == bytes(32)


def test_a_clone_that_never_answers_the_notepad_gets_the_port_identity(
    sim: tuple[FingerprintSimulator, str],
) -> None:
    device, port = sim
    device.notepad_supported = True
    device.missing_opcodes = {Op.READ_NOTEPAD}
    module = connected(port)
    identity = module.identity()
    module.close()
    assert identity.notepad_problem == "模块未应答“读记事本”指令"
    assert identity.value == port_id("machine/ws-07", port, device.system_parameters())


def test_a_module_gone_silent_is_an_error_not_a_missing_notepad(
    sim: tuple[FingerprintSimulator, str],
) -> None:
    device, port = sim
    device.notepad_supported = True
    module = connected(port)
    device.missing_opcodes = {Op.READ_NOTEPAD, Op.TEMPLATE_NUM}  # it stops answering anything
    with pytest.raises(DeviceTimeoutError, match="读记事本"):
        module.identity()
    module.close()


def test_a_module_with_a_notepad_keeps_its_notepad_identity(
    sim: tuple[FingerprintSimulator, str],
) -> None:
    device, port = sim
    device.notepad_supported = True
    module = connected(port)
    identity = module.identity()
    module.close()
    assert identity.from_notepad and len(identity.value) == 32
    assert device.notepad[0].startswith(b"SGSS-FP1")


def test_port_identity_inputs() -> None:
    assert normalise_port("\\\\.\\com3") == "COM3" == normalise_port(" com3 ")
    assert normalise_port("fpsim://desk?finger=A") == "fpsim://desk"
    assert normalise_port("/dev/ttyUSB0") == "/dev/ttyUSB0"
    base = port_id("m/ws", "COM3", CLONE_PARAMS)
    assert port_id("m/ws", "com3", CLONE_PARAMS) == base
    assert port_id("m/ws", "COM4", CLONE_PARAMS) != base
    assert port_id("m/ws2", "COM3", CLONE_PARAMS) != base
    bigger = SystemParameters(**{**CLONE_PARAMS.__dict__, "library_size": 300})
    assert port_id("m/ws", "COM3", bigger) != base
    tuned = SystemParameters(**{**CLONE_PARAMS.__dict__, "security_level": 5, "baud_n": 12})
    assert port_id("m/ws", "COM3", tuned) == base  # settings a technician changes do not count
