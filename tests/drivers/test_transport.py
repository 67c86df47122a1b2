"""The transport every driver uses: deadlines, terminators, recording, errors a clerk can read,
exclusive open, and port discovery by USB bridge."""

import sys
import time
from types import SimpleNamespace

import pytest

from drivers import ports
from drivers.errors import DeviceTimeoutError, PortBusyError, PortNotFoundError
from drivers.fingerprint.simulator import FingerprintSimulator
from drivers.sim import registry
from drivers.sim.base import SimulatedDevice
from drivers.sim.pty_bridge import PtyBridge
from drivers.transport import RecordingTransport, SerialTransport, deadline_in

VFY_PWD = bytes.fromhex("EF01FFFFFFFF 01 0007 13 00000000 001B")
ACK_OK = bytes.fromhex("EF01FFFFFFFF 07 0003 00 000A")
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")


class Echo(SimulatedDevice):
    """Answers every write with the same bytes, after a pause."""

    def receive(self, data: bytes) -> None:
        self.emit(data, delay=0.01)


@pytest.fixture(autouse=True)
def clean_registry():  # type: ignore[no-untyped-def]
    yield
    registry.forget()


def test_recording_keeps_both_directions_byte_exact() -> None:
    registry.install("fpsim", "rec", FingerprintSimulator())
    with SerialTransport("fpsim://rec") as inner:
        recorder = RecordingTransport(inner)
        recorder.write(VFY_PWD)
        assert recorder.read_exact(len(ACK_OK), deadline_in(1.0)) == ACK_OK
    assert [e.direction for e in recorder.events] == ["w", "r"]
    assert recorder.written() == VFY_PWD and recorder.received() == ACK_OK


def test_reads_stop_at_the_deadline() -> None:
    registry.install("fpsim", "quiet", FingerprintSimulator())
    with SerialTransport("fpsim://quiet") as transport:
        started = time.monotonic()
        with pytest.raises(DeviceTimeoutError) as caught:
            transport.read_exact(12, deadline_in(0.2))
        assert 0.15 < time.monotonic() - started < 1.0
        assert "设备无响应" in caught.value.message
        assert transport.read_available(deadline_in(0.05)) == b""


@posix_only
def test_read_until_a_terminator_over_a_real_tty() -> None:
    with PtyBridge(Echo()) as bridge, SerialTransport(bridge.port, 9600) as transport:
        transport.write(b"\x1bRfv\r")
        assert transport.read_until(b"\r", deadline_in(2.0)) == b"\x1bRfv\r"
        transport.write(b"no terminator")
        with pytest.raises(DeviceTimeoutError):
            transport.read_until(b"\r", deadline_in(0.3))


@posix_only
def test_a_second_program_on_the_same_port_is_refused() -> None:
    with PtyBridge(Echo()) as bridge, SerialTransport(bridge.port):
        with pytest.raises(PortBusyError) as caught:
            SerialTransport(bridge.port).open()
        assert "占用" in caught.value.message


def test_missing_ports_and_unknown_schemes_are_named() -> None:
    with pytest.raises(PortNotFoundError) as caught:
        SerialTransport("/dev/ttyNOPE-sgss").open()
    assert "找不到该端口" in caught.value.message
    with pytest.raises(PortNotFoundError):
        SerialTransport("nosuchscheme://x").open()


def test_usb_serial_bridges_are_recognised_and_listed_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = [
        SimpleNamespace(device="/dev/ttyS0", description="n/a", vid=None, pid=None),
        SimpleNamespace(
            device="/dev/ttyUSB0",
            description="USB Serial",
            vid=0x1A86,
            pid=0x7523,
            serial_number=None,
        ),
        SimpleNamespace(device="COM7", description="Silicon Labs", vid=0x10C4, pid=0xEA60),
    ]
    monkeypatch.setattr(ports.list_ports, "comports", lambda: found)
    listed = ports.available_ports()
    assert [p.device for p in listed] == ["/dev/ttyUSB0", "COM7", "/dev/ttyS0"]
    assert listed[0].bridge == "CH340" and listed[0].label == "/dev/ttyUSB0（CH340 USB 串口）"
    assert listed[1].bridge == "CP210x" and listed[2].label == "/dev/ttyS0"


@pytest.mark.parametrize(
    "text",
    [
        "read failed: (5, 'Input/output error')",
        "read failed: (5, '输入/输出错误')",  # the C library in a Chinese locale
        "could not open port /dev/ttyUSB0: [Errno 6] 没有那个设备或地址",
    ],
)
def test_a_vanished_device_is_told_by_its_number_in_any_language(text: str) -> None:
    import serial

    from drivers.errors import DisconnectedError
    from drivers.transport import _translate

    error = serial.SerialException(text)
    if "Errno 6" in text:
        error = serial.SerialException(6, text)
    assert isinstance(_translate(error, "/dev/ttyUSB0"), DisconnectedError)
