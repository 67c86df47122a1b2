"""Commands out, packets in, each exchange bounded by a deadline the baud rate justifies.

Every wait has a deadline computed from the bytes on the wire at the current baud rate plus an
allowance for the module's own work (``Allowances``), so a slow search is not cut short and a
dead line is not waited on forever. Replies are read through the incremental ``Deframer`` over
``read_available`` — never fixed-length reads, because reply lengths differ per command and per
clone. Idempotent commands are sent once more after a checksum error or a silence (input
flushed first); the caller says which commands are not (RegModel, the start of a transfer).
A silence is explained: garbage means a wrong baud rate, silence before the first answer means
power, port or baud, silence to one command after others were answered means the model lacks it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, replace

from drivers.errors import ChecksumError, DeviceError, DeviceTimeoutError, FramingError
from drivers.fingerprint import codec
from drivers.fingerprint.codec import OP_LABELS, PID_ACK, Packet
from drivers.fingerprint.codes import OK
from drivers.fingerprint.deframer import Deframer
from drivers.fingerprint.errors import error_for
from drivers.transport import Transport

log = logging.getLogger(__name__)

PACKET_OVERHEAD = 11  # header, address, identifier, LEN, checksum
OK_ONLY = frozenset({OK})


@dataclass(frozen=True)
class Allowances:
    """Seconds the module may spend *working* on a command, on top of the bytes' wire time.

    Defaults suit real modules (a GenImg exposure ~0.5 s, a search over 1,000 templates ~1 s,
    Empty erases flash). ``margin`` multiplies the wire time for USB-serial latency.
    ``idle_gap`` is how long a template upload may pause before we conclude that a clone has
    finished without its final packet.
    """

    command: float = 0.5
    capture: float = 2.0
    search: float = 3.0
    flash: float = 1.5
    erase: float = 5.0
    idle_gap: float = 0.3
    margin: float = 2.0

    def scaled(self, factor: float) -> Allowances:
        """All module allowances times ``factor`` (tests and simulators answer at once)."""
        return replace(
            self,
            command=self.command * factor,
            capture=self.capture * factor,
            search=self.search * factor,
            flash=self.flash * factor,
            erase=self.erase * factor,
            idle_gap=self.idle_gap * factor,
        )


class Channel:
    """One module address on one transport. ``answered`` tells whether the module has answered
    anything since ``reset_session`` — the difference between "no module" and "no such command"."""

    def __init__(self, transport: Transport, address: int, allowances: Allowances) -> None:
        self.transport = transport
        self.address = address
        self.allowances = allowances
        self.answered = False
        self._deframer = Deframer(address)
        self._inbox: deque[Packet] = deque()

    def reset_session(self) -> None:
        self.answered = False

    def wire_time(self, nbytes: int) -> float:
        baud = self.transport.baudrate or 57600
        return nbytes * 10 / baud * self.allowances.margin

    def send(self, payload: bytes) -> None:
        """Flush first: a late reply to an earlier command must not pass for this one's."""
        self.transport.flush_input()
        self._deframer.reset()
        self._inbox.clear()
        self.transport.write(codec.command(self.address, payload))

    def transact(
        self, payload: bytes, allowance: float, *, reply: int = 12, retry: bool = True
    ) -> Packet:
        """Send a command and return its acknowledge (whatever its confirmation code)."""
        op = payload[0]
        attempts = 2 if retry else 1
        for attempt in range(1, attempts + 1):
            self.send(payload)
            wire = self.wire_time(len(payload) + PACKET_OVERHEAD + reply)
            deadline = time.monotonic() + wire + allowance
            try:
                while True:
                    packet = self.next_packet(deadline, op)
                    if packet.identifier == PID_ACK:
                        self.answered = True
                        return packet
                    # a data packet left over from an interrupted transfer: not our answer
            except (ChecksumError, DeviceTimeoutError) as err:
                if attempt == attempts:
                    raise
                log.info("retrying %s after %s", OP_LABELS.get(op, hex(op)), err)
        raise AssertionError("unreachable")

    def call(
        self,
        payload: bytes,
        allowance: float,
        *,
        reply: int = 12,
        retry: bool = True,
        ok: frozenset[int] = OK_ONLY,
    ) -> Packet:
        """``transact`` for commands whose only good answer is ``ok``: anything else raises."""
        ack = self.transact(payload, allowance, reply=reply, retry=retry)
        expect_ok(ack, ok)
        return ack

    def write_packets(self, packets: list[bytes]) -> None:
        for packet in packets:
            self.transport.write(packet)

    def next_packet(self, deadline: float, op: int) -> Packet:
        """The next packet before ``deadline``. A corrupt frame raises ChecksumError at once (part
        of the answer is lost; waiting longer will not bring it back); otherwise the deadline
        ends in FramingError if only garbage came, or in DeviceTimeoutError if nothing did."""
        garbage = 0
        while not self._inbox:
            if time.monotonic() >= deadline:
                raise self._silence(op, garbage)
            chunk = self.transport.read_available(deadline)
            if not chunk:
                continue
            self._inbox.extend(self._deframer.feed(chunk))
            for problem in self._deframer.take_problems():
                if isinstance(problem, ChecksumError):
                    raise ChecksumError(detail=f"{_label(op)}：{problem.detail}")
                garbage += 1
        return self._inbox.popleft()

    def _silence(self, op: int, garbage: int) -> DeviceError:
        baud = self.transport.baudrate
        if garbage:
            return FramingError(
                f"收到无法识别的数据，请检查波特率设置（当前 {baud}）是否与指纹模块一致",
                detail=f"{_label(op)}，已丢弃 {self._deframer.garbage_bytes} 字节",
            )
        if not self.answered:
            return DeviceTimeoutError(
                f"指纹模块无应答，请确认模块已通电、端口选择正确、波特率（当前 {baud}）与模块一致",
                detail=self.transport.url,
            )
        return DeviceTimeoutError(
            f"指纹模块未应答“{OP_LABELS.get(op, '未知')}”指令，该型号可能不支持此功能，"
            "或模块已断电",
            detail=_label(op),
        )


def expect_ok(ack: Packet, ok: frozenset[int] = OK_ONLY) -> None:
    """Raise the mapped error unless the confirmation code is in ``ok``."""
    if ack.code < 0:
        raise FramingError("指纹模块应答为空，请重试")
    if ack.code not in ok:
        raise error_for(ack.code)


def _label(op: int) -> str:
    return f"{OP_LABELS.get(op, '指令')} 0x{op:02X}"
