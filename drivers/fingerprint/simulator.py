"""A byte-accurate fingerprint module on the far end of a simulated serial link.

It speaks the same packets as a ZFM/R30x module (``fpsim://NAME`` in-process, or a pty through
``PtyBridge``), keeps the state a real one keeps (password, parameters, image buffer, char
buffers 1 and 2, a template library, a 16 × 32-byte notepad) and models a finger instead of a
sensor: ``place_finger("A")`` / ``lift_finger()``. Templates are derived from the finger's
identity with per-capture noise, so two captures of one finger differ byte-wise (as real ones
do) while Match/Search/RegModel still recognise the finger by identity.

**Auto presenter** (``auto_finger``, URL ``?finger=NAME``): for a CLI run or the demo client in
another process, where no test can place a finger. GenImg sees no finger for ``auto_away_polls``
polls, then the finger; after a capture the next poll finds the finger lifted. A guided enrolment
therefore completes by itself.

**Faults** (attributes and methods, settable at any time; each is consumed as it fires):

* ``no_finger_polls = N`` – the next N GenImg polls report "no finger" even with a finger on;
* ``fail_next_capture(code)`` – 03 fails the next GenImg, 04/05/06/07 the next Img2Tz;
* ``corrupt_replies = N`` – the next N packets sent (acks and data) carry a wrong checksum;
* ``missing_opcodes`` – commands the model lacks: never answered (unknown opcodes behave alike);
* ``template_size`` – 768/1024/1536 makes clone-sized templates; ``send_final_packet = False``
  makes UpChar end with a ``02`` packet instead of ``08``, as some clones do;
* baud mismatch – a host opening the port at a rate ≠ 9600 × N gets garbage back (only on the
  in-process URL: a pty does not tell the simulator the host's baud rate);
* ``fill_library()`` – every slot taken (library full);
* ``notepad = False`` – a clone without the notepad: ReadNotepad and WriteNotepad are answered
  with an acknowledge carrying 0x01 (``EF01 FFFFFFFF 07 0003 01 000B``), as such clones do;
* ``settle`` – bytes arriving within ``settle`` s of creation/power-on are ignored;
* link faults (fragmented or delayed replies, silence) via ``self.link``; ``unplug()``.

URL options (``configure``): ``finger``, ``library``, ``settle``, ``password``, ``template``
(template size), ``final`` (0: no final packet), ``missing`` (hex opcodes, comma-separated),
``notepad`` (0: no notepad).
"""

from __future__ import annotations

import hashlib
import threading
import time

from drivers.errors import ChecksumError
from drivers.fingerprint import codec
from drivers.fingerprint.codec import (
    BAUD_UNIT,
    DEFAULT_ADDRESS,
    INDEX_PAGE_SLOTS,
    INDEX_PAGES,
    NOTEPAD_PAGE_SIZE,
    NOTEPAD_PAGES,
    PID_ACK,
    PID_COMMAND,
    PID_DATA,
    PID_END,
    Op,
    Packet,
)
from drivers.fingerprint.deframer import Deframer
from drivers.fingerprint.sim_commands import (
    CAPTURE_FAILED,
    CLONE_TEMPLATE_SIZES,
    GENUINE_TEMPLATE_SIZE,
    IMG2TZ_FAULTS,
    PACKET_ERROR,
    PASSWORD_REQUIRED,
    BadArgumentsError,
    CommandSet,
    make_template,
    template_identity,
)
from drivers.sim.base import SimulatedDevice

__all__ = [
    "CLONE_TEMPLATE_SIZES",
    "GENUINE_TEMPLATE_SIZE",
    "FingerprintSimulator",
    "make_template",
    "template_identity",
]


class FingerprintSimulator(CommandSet, SimulatedDevice):
    """See the module docstring for the finger model, the auto presenter and the faults."""

    def __init__(
        self,
        *,
        address: int = DEFAULT_ADDRESS,
        password: int = 0,
        library_size: int = 300,
        security_level: int = 3,
        packet_size_code: int = 2,
        baud_n: int = 6,
        settle: float = 0.0,
        template_size: int = GENUINE_TEMPLATE_SIZE,
    ) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.address = address
        self.password = password
        self.system_id = 0
        self.library_size = library_size
        self.security_level = security_level
        self.packet_size_code = packet_size_code
        self.baud_n = baud_n  # as configured; the link follows after a power cycle
        self.link_baud_n = baud_n
        self.settle = settle
        # state a real module keeps
        self.verified = False
        self.match_found = False
        self.image: str | None = None  # identity of the finger in the image buffer
        self.char_buffers: dict[int, bytes] = {}
        self.library: dict[int, bytes] = {}
        self.notepad = [bytes(NOTEPAD_PAGE_SIZE)] * NOTEPAD_PAGES
        # the finger
        self.finger: str | None = None
        self._auto_finger: str | None = None
        self.auto_away_polls = 2
        self._auto_present = False
        self._auto_captured = False
        self._auto_away = 0
        # faults
        self.no_finger_polls = 0
        self.quality_fault: int | None = None
        self.corrupt_replies = 0
        self.missing_opcodes: set[int] = set()
        self.template_size = template_size
        self.send_final_packet = True
        self.notepad_supported = True
        # bookkeeping
        self.commands: list[int] = []  # every opcode received, for tests
        self._captures = 0
        self._deframer = Deframer()
        self._download: tuple[int, bytearray] | None = None
        self._awake_at = time.monotonic() + settle
        self._handlers = self._command_table()

    # the finger and the faults (test / demo side) ----------------------------------------------
    def place_finger(self, identity: str) -> None:
        with self._lock:
            self.finger = identity

    def lift_finger(self) -> None:
        with self._lock:
            self.finger = None

    @property
    def auto_finger(self) -> str | None:
        return self._auto_finger

    @auto_finger.setter
    def auto_finger(self, identity: str | None) -> None:
        with self._lock:
            self._auto_finger = identity
            self._auto_present = False
            self._auto_captured = False
            self._auto_away = self.auto_away_polls

    def fail_next_capture(self, code: int) -> None:
        if code != CAPTURE_FAILED and code not in IMG2TZ_FAULTS:
            raise ValueError(f"quality fault {code:#04x} is not 03..07")
        with self._lock:
            self.quality_fault = code

    def fill_library(self, prefix: str = "filler") -> None:
        with self._lock:
            for slot in range(self.library_size):
                self.library.setdefault(slot, self._new_template(f"{prefix}-{slot}"))

    def store_finger(self, slot: int, identity: str) -> None:
        """Pre-load the library as if ``identity`` had been enrolled at ``slot``."""
        with self._lock:
            self.library[slot] = self._new_template(identity)

    def slots_of(self, identity: str) -> list[int]:
        want = hashlib.sha256(identity.encode()).digest()
        with self._lock:
            return sorted(s for s, t in self.library.items() if template_identity(t) == want)

    def power_cycle(self) -> None:
        """What a real power cycle resets: session, buffers, and a baud change takes effect."""
        with self._lock:
            self.verified = False
            self.match_found = False
            self.image = None
            self.char_buffers.clear()
            self._download = None
            self._deframer.reset()
            self.link_baud_n = self.baud_n
            self._awake_at = time.monotonic() + self.settle

    def replug(self) -> None:
        super().replug()
        self.power_cycle()

    def configure(self, options: dict[str, str]) -> None:
        known = {
            "finger",
            "library",
            "settle",
            "password",
            "template",
            "final",
            "missing",
            "notepad",
        }
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"unknown fpsim options: {sorted(unknown)} (known: {sorted(known)})")
        with self._lock:
            if "finger" in options:
                self.auto_finger = options["finger"] or None
            if "library" in options:
                size = int(options["library"])
                if not 1 <= size <= INDEX_PAGES * INDEX_PAGE_SLOTS:
                    raise ValueError(f"library size {size} is not 1..1024")
                self.library_size = size
                self.library = {s: t for s, t in self.library.items() if s < size}
            if "settle" in options:
                self.settle = float(options["settle"])
                self._awake_at = time.monotonic() + self.settle
            if "password" in options:
                self.password = int(options["password"], 0)
            if "template" in options:
                size = int(options["template"])
                if not 36 <= size <= 4096:
                    raise ValueError(f"template size {size} is not 36..4096")
                self.template_size = size
            if "final" in options:
                self.send_final_packet = _yes(options["final"])
            if "notepad" in options:
                self.notepad_supported = _yes(options["notepad"])
            if "missing" in options:
                self.missing_opcodes = {
                    int(op, 16) for op in options["missing"].split(",") if op.strip()
                }

    # wire side -------------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        with self._lock:
            if time.monotonic() < self._awake_at:
                return  # still booting: the bytes are lost, as on a real module
            if self._baud_mismatch():
                # each byte sampled at the wrong rate: what comes back is noise (no EF in it)
                self.emit(bytes(0x80 | (b & 0x3F) for b in data[:12]))
                return
            for packet in self._deframer.feed(data):
                self._handle(packet)
            for problem in self._deframer.take_problems():
                if isinstance(problem, ChecksumError):
                    self._ack(PACKET_ERROR)

    def _baud_mismatch(self) -> bool:
        host = self.host_baudrate
        return host is not None and host != BAUD_UNIT * self.link_baud_n

    def _handle(self, packet: Packet) -> None:
        if packet.address != self.address:
            return  # addressed to another module on the bus
        if packet.identifier in (PID_DATA, PID_END):
            self._receive_data(packet)
            return
        if packet.identifier != PID_COMMAND or not packet.payload:
            return
        self._download = None  # a command ends any half-received download
        op, args = packet.payload[0], packet.payload[1:]
        self.commands.append(op)
        handler = self._handlers.get(op)
        if op in self.missing_opcodes or handler is None:
            return  # this model lacks the command: silence, as on an R503 asked for 1B
        if self.password and not self.verified and op != Op.VFY_PWD:
            self._ack(PASSWORD_REQUIRED)
            return
        try:
            handler(args)
        except BadArgumentsError:
            self._ack(PACKET_ERROR)

    def _send(self, raw: bytes) -> None:
        if self.corrupt_replies > 0:
            self.corrupt_replies -= 1
            raw = raw[:-1] + bytes([raw[-1] ^ 0x5A])
        self.emit(raw)

    def _ack(self, code: int, extra: bytes = b"") -> None:
        self._send(codec.encode_packet(self.address, PID_ACK, bytes([code]) + extra))

    def _new_template(self, identity: str) -> bytes:
        self._captures += 1
        return make_template(identity, self._captures, self.template_size)

    # finger presence ---------------------------------------------------------------------------
    def _finger_now(self) -> str | None:
        if self._auto_finger is None:
            return self.finger
        if self._auto_present:
            if self._auto_captured:  # the host polled once more after the capture: lifted
                self._auto_present = False
                self._auto_captured = False
                self._auto_away = self.auto_away_polls
                return None
            return self._auto_finger
        if self._auto_away > 0:
            self._auto_away -= 1
            return None
        self._auto_present = True
        return self._auto_finger


def _yes(option: str) -> bool:
    return option.strip().lower() not in ("0", "false", "no")
