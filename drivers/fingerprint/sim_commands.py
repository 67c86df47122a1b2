"""The simulated module's commands, byte-accurate, over the state ``FingerprintSimulator`` keeps.

Kept apart from the simulator's finger model, fault knobs and wire handling so each file reads
on its own. Templates are ``make_template(identity, capture)``: a magic, the identity's hash and
per-capture noise, so two captures of one finger differ byte-wise while Match, Search and
RegModel compare identities — the only thing a simulator can honestly compare.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Callable

from drivers.fingerprint import codec
from drivers.fingerprint.codec import (
    INDEX_PAGES,
    NOTEPAD_PAGE_SIZE,
    NOTEPAD_PAGES,
    PACKET_SIZES,
    PID_ACK,
    PID_END,
    Op,
    Packet,
    SysParam,
    SystemParameters,
)

TEMPLATE_MAGIC = b"SIMT"
GENUINE_TEMPLATE_SIZE = 512
CLONE_TEMPLATE_SIZES = (768, 1024, 1536)
_IDENTITY = slice(4, 36)

OK = 0x00
PACKET_ERROR = 0x01
NO_FINGER = 0x02
CAPTURE_FAILED = 0x03
NO_MATCH = 0x08
NOT_FOUND = 0x09
MERGE_FAILED = 0x0A
OUT_OF_RANGE = 0x0B
TEMPLATE_INVALID = 0x0C
UPLOAD_FAILED = 0x0D
DELETE_FAILED = 0x10
WRONG_PASSWORD = 0x13
NO_IMAGE = 0x15
INVALID_REGISTER = 0x1A
PASSWORD_REQUIRED = 0x21
IMG2TZ_FAULTS = frozenset({0x04, 0x05, 0x06, 0x07})


def make_template(identity: str, capture: int, size: int = GENUINE_TEMPLATE_SIZE) -> bytes:
    """``size`` bytes: magic, the identity's hash, then noise unique to this capture."""
    digest = hashlib.sha256(identity.encode()).digest()
    noise = bytearray()
    block = 0
    while len(TEMPLATE_MAGIC) + len(digest) + len(noise) < size:
        noise += hashlib.sha256(digest + struct.pack(">II", capture, block)).digest()
        block += 1
    return (TEMPLATE_MAGIC + digest + bytes(noise))[:size]


def template_identity(template: bytes | None) -> bytes | None:
    """The identity hash a template carries, or None for an empty or foreign template."""
    if template is None or len(template) < _IDENTITY.stop or template[:4] != TEMPLATE_MAGIC:
        return None
    return template[_IDENTITY]


def _score(a: bytes, b: bytes) -> int:
    """A plausible match score (real modules report ~50–300 for a good match)."""
    return 60 + hashlib.sha256(a + b).digest()[0] % 140


class BadArgumentsError(Exception):
    """A command packet too short for its parameters: the module answers 01."""


def _args(args: bytes, fmt: str) -> tuple[int, ...]:
    size = struct.calcsize(fmt)
    if len(args) < size:
        raise BadArgumentsError
    return struct.unpack(fmt, args[:size])


class CommandSet:
    """Handlers for every implemented opcode; ``_ack``/``_send`` come from the simulator."""

    address: int
    password: int
    system_id: int
    library_size: int
    security_level: int
    packet_size_code: int
    baud_n: int
    verified: bool
    match_found: bool
    image: str | None
    char_buffers: dict[int, bytes]
    library: dict[int, bytes]
    notepad: list[bytes]
    no_finger_polls: int
    quality_fault: int | None
    send_final_packet: bool
    notepad_supported: bool
    _auto_present: bool
    _auto_captured: bool
    _download: tuple[int, bytearray] | None

    def _ack(self, code: int, extra: bytes = b"") -> None:
        raise NotImplementedError

    def _send(self, raw: bytes) -> None:
        raise NotImplementedError

    def _finger_now(self) -> str | None:
        raise NotImplementedError

    def _new_template(self, identity: str) -> bytes:
        raise NotImplementedError

    @property
    def packet_size(self) -> int:
        return PACKET_SIZES[self.packet_size_code]

    def _command_table(self) -> dict[int, Callable[[bytes], None]]:
        return {
            Op.GEN_IMG: self._gen_img,
            Op.IMG2TZ: self._img2tz,
            Op.MATCH: self._match,
            Op.SEARCH: self._search,
            Op.HIGH_SPEED_SEARCH: self._search,
            Op.REG_MODEL: self._reg_model,
            Op.STORE: self._store,
            Op.LOAD_CHAR: self._load_char,
            Op.UP_CHAR: self._up_char,
            Op.DOWN_CHAR: self._down_char,
            Op.DELETE_CHAR: self._delete_char,
            Op.EMPTY: self._empty,
            Op.SET_SYS_PARA: self._set_sys_para,
            Op.READ_SYS_PARA: self._read_sys_para,
            Op.SET_PWD: self._set_pwd,
            Op.VFY_PWD: self._vfy_pwd,
            Op.GET_RANDOM_CODE: self._get_random_code,
            Op.SET_ADDR: self._set_addr,
            Op.WRITE_NOTEPAD: self._write_notepad,
            Op.READ_NOTEPAD: self._read_notepad,
            Op.TEMPLATE_NUM: self._template_num,
            Op.READ_INDEX_TABLE: self._read_index_table,
        }

    def _gen_img(self, _: bytes) -> None:
        if self.no_finger_polls > 0:
            self.no_finger_polls -= 1
            self._ack(NO_FINGER)
            return
        finger = self._finger_now()
        if finger is None:
            self._ack(NO_FINGER)
            return
        if self.quality_fault == CAPTURE_FAILED:
            self.quality_fault = None
            self.image = None
            self._ack(CAPTURE_FAILED)
            return
        self.image = finger
        self._auto_captured = self._auto_present
        self._ack(OK)

    def _img2tz(self, args: bytes) -> None:
        (buffer,) = _args(args, ">B")
        if buffer not in (1, 2):
            self._ack(PACKET_ERROR)
        elif self.image is None:
            self._ack(NO_IMAGE)
        elif self.quality_fault in IMG2TZ_FAULTS:
            code, self.quality_fault = self.quality_fault, None
            self._ack(code)
        else:
            self.char_buffers[buffer] = self._new_template(self.image)
            self._ack(OK)

    def _match(self, _: bytes) -> None:
        a = template_identity(self.char_buffers.get(1))
        b = template_identity(self.char_buffers.get(2))
        if a is not None and a == b:
            self.match_found = True
            self._ack(OK, struct.pack(">H", _score(self.char_buffers[1], self.char_buffers[2])))
        else:
            self._ack(NO_MATCH, b"\x00\x00")

    def _search(self, args: bytes) -> None:
        buffer, start, count = _args(args, ">BHH")
        probe = self.char_buffers.get(buffer)
        want = template_identity(probe)
        if want is not None and probe is not None:
            for slot in sorted(s for s in self.library if start <= s < start + count):
                if template_identity(self.library[slot]) == want:
                    self.match_found = True
                    score = _score(probe, self.library[slot])
                    self._ack(OK, struct.pack(">HH", slot, score))
                    return
        self._ack(NOT_FOUND, b"\x00\x00\x00\x00")

    def _reg_model(self, _: bytes) -> None:
        a = template_identity(self.char_buffers.get(1))
        b = template_identity(self.char_buffers.get(2))
        if a is None or a != b:
            self._ack(MERGE_FAILED)
            return
        merged = self.char_buffers[1][:36] + self._new_template("merge")[36:]
        self.char_buffers[1] = self.char_buffers[2] = merged
        self._ack(OK)

    def _store(self, args: bytes) -> None:
        buffer, slot = _args(args, ">BH")
        if slot >= self.library_size:
            self._ack(OUT_OF_RANGE)
        elif buffer not in self.char_buffers:
            self._ack(TEMPLATE_INVALID)
        else:
            self.library[slot] = self.char_buffers[buffer]
            self._ack(OK)

    def _load_char(self, args: bytes) -> None:
        buffer, slot = _args(args, ">BH")
        if slot >= self.library_size:
            self._ack(OUT_OF_RANGE)
        elif slot not in self.library:
            self._ack(TEMPLATE_INVALID)
        else:
            self.char_buffers[buffer] = self.library[slot]
            self._ack(OK)

    def _up_char(self, args: bytes) -> None:
        (buffer,) = _args(args, ">B")
        template = self.char_buffers.get(buffer)
        if template is None:
            self._ack(UPLOAD_FAILED)
            return
        self._ack(OK)
        packets = codec.data_packets(
            self.address, template, self.packet_size, final=self.send_final_packet
        )
        for raw in packets:
            self._send(raw)

    def _down_char(self, args: bytes) -> None:
        (buffer,) = _args(args, ">B")
        self._ack(OK)
        self._download = (buffer, bytearray())

    def _receive_data(self, packet: Packet) -> None:
        if self._download is None:
            return
        buffer, data = self._download
        data += packet.payload
        if packet.identifier == PID_END:
            self.char_buffers[buffer] = bytes(data)
            self._download = None

    def _delete_char(self, args: bytes) -> None:
        slot, count = _args(args, ">HH")
        if count == 0 or slot + count > self.library_size:
            self._ack(DELETE_FAILED)
            return
        for s in range(slot, slot + count):
            self.library.pop(s, None)
        self._ack(OK)

    def _empty(self, _: bytes) -> None:
        self.library.clear()
        self._ack(OK)

    def _set_sys_para(self, args: bytes) -> None:
        param, value = _args(args, ">BB")
        if param == SysParam.BAUD and 1 <= value <= 12:
            self.baud_n = value  # the link changes only after a power cycle
        elif param == SysParam.SECURITY_LEVEL and 1 <= value <= 5:
            self.security_level = value
        elif param == SysParam.PACKET_SIZE and 0 <= value < len(PACKET_SIZES):
            self.packet_size_code = value
        else:
            self._ack(INVALID_REGISTER)
            return
        self._ack(OK)

    def system_parameters(self) -> SystemParameters:
        status = (
            (0x02 if self.match_found else 0)
            | (0x04 if self.verified else 0)
            | (0x08 if self.image is not None else 0)
        )
        return SystemParameters(
            status=status,
            system_id=self.system_id,
            library_size=self.library_size,
            security_level=self.security_level,
            address=self.address,
            packet_size_code=self.packet_size_code,
            baud_n=self.baud_n,
        )

    def _read_sys_para(self, _: bytes) -> None:
        self._send(codec.encode_packet(self.address, PID_ACK, self.system_parameters().encode(OK)))

    def _set_pwd(self, args: bytes) -> None:
        (self.password,) = _args(args, ">I")
        self._ack(OK)

    def _vfy_pwd(self, args: bytes) -> None:
        (given,) = _args(args, ">I")
        self.verified = given == self.password
        self._ack(OK if self.verified else WRONG_PASSWORD)

    def _get_random_code(self, _: bytes) -> None:
        self._ack(OK, hashlib.sha256(struct.pack(">d", time.time())).digest()[:4])

    def _set_addr(self, args: bytes) -> None:
        (self.address,) = _args(args, ">I")
        self._ack(OK)  # sent from the new address, as the module does

    def _write_notepad(self, args: bytes) -> None:
        (page,) = _args(args, ">B")
        if not self.notepad_supported:
            self._ack(PACKET_ERROR)  # the clone's answer: a bare acknowledge with 01
        elif page >= NOTEPAD_PAGES:
            self._ack(OUT_OF_RANGE)
        elif len(args) < 1 + NOTEPAD_PAGE_SIZE:
            self._ack(PACKET_ERROR)
        else:
            self.notepad[page] = bytes(args[1 : 1 + NOTEPAD_PAGE_SIZE])
            self._ack(OK)

    def _read_notepad(self, args: bytes) -> None:
        (page,) = _args(args, ">B")
        if not self.notepad_supported:
            self._ack(PACKET_ERROR)
        elif page >= NOTEPAD_PAGES:
            self._ack(OUT_OF_RANGE)
        else:
            self._ack(OK, self.notepad[page])

    def _template_num(self, _: bytes) -> None:
        self._ack(OK, struct.pack(">H", len(self.library)))

    def _read_index_table(self, args: bytes) -> None:
        (page,) = _args(args, ">B")
        if page >= INDEX_PAGES:
            self._ack(OUT_OF_RANGE)
        else:
            self._ack(OK, codec.encode_index_table(page, self.library))
