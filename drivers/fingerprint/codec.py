"""The ZFM/R30x/AS608 packet format: pure functions from values to bytes and back.

Nothing here touches a port or a clock, so every byte the driver and the simulator exchange can be
checked against the test vectors in docs/DEVICES.md. Command builders return the *payload*
(opcode + parameters); ``encode_packet`` adds header, address, identifier, LEN and checksum, so
the same builder serves any module address.

Receiving a byte stream is ``drivers.fingerprint.deframer``; the module's confirmation codes and
the errors they become are ``drivers.fingerprint.codes``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from drivers.errors import FramingError

HEADER = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
DEFAULT_PASSWORD = 0

PID_COMMAND = 0x01
PID_DATA = 0x02  # a data packet, more follow
PID_ACK = 0x07
PID_END = 0x08  # the last data packet
IDENTIFIERS = frozenset({PID_COMMAND, PID_DATA, PID_ACK, PID_END})

PREFIX_SIZE = 9  # header 2 + address 4 + identifier 1 + LEN 2
CHECKSUM_SIZE = 2
# The largest payload a module sends is one 256-byte data packet; a little margin lets a clone's
# odd packet through while a garbage LEN (e.g. 0xEF01 from noise) is rejected at once instead of
# stalling the parser for 60 KB that will never come.
MAX_PAYLOAD = 256 + 16

PACKET_SIZES = (32, 64, 128, 256)  # by packet size code 0..3
NOTEPAD_PAGES = 16
NOTEPAD_PAGE_SIZE = 32
INDEX_PAGES = 4
INDEX_PAGE_SLOTS = 256  # 32-byte bitmap per page
BAUD_UNIT = 9600


class Op(IntEnum):
    """Command opcodes (first payload byte of a command packet)."""

    GEN_IMG = 0x01
    IMG2TZ = 0x02
    MATCH = 0x03
    SEARCH = 0x04
    REG_MODEL = 0x05
    STORE = 0x06
    LOAD_CHAR = 0x07
    UP_CHAR = 0x08
    DOWN_CHAR = 0x09
    UP_IMAGE = 0x0A
    DOWN_IMAGE = 0x0B
    DELETE_CHAR = 0x0C
    EMPTY = 0x0D
    SET_SYS_PARA = 0x0E
    READ_SYS_PARA = 0x0F
    SET_PWD = 0x12
    VFY_PWD = 0x13
    GET_RANDOM_CODE = 0x14
    SET_ADDR = 0x15
    WRITE_NOTEPAD = 0x18
    READ_NOTEPAD = 0x19
    HIGH_SPEED_SEARCH = 0x1B
    TEMPLATE_NUM = 0x1D
    READ_INDEX_TABLE = 0x1F


# what a clerk or technician reads in a timeout message ("指纹模块未应答“搜索指纹库”指令")
OP_LABELS: dict[int, str] = {
    Op.GEN_IMG: "采集图像",
    Op.IMG2TZ: "生成特征",
    Op.MATCH: "比对特征",
    Op.SEARCH: "搜索指纹库",
    Op.REG_MODEL: "合并模板",
    Op.STORE: "保存模板",
    Op.LOAD_CHAR: "读出模板",
    Op.UP_CHAR: "上传模板",
    Op.DOWN_CHAR: "下载模板",
    Op.UP_IMAGE: "上传图像",
    Op.DOWN_IMAGE: "下载图像",
    Op.DELETE_CHAR: "删除模板",
    Op.EMPTY: "清空指纹库",
    Op.SET_SYS_PARA: "设置系统参数",
    Op.READ_SYS_PARA: "读取系统参数",
    Op.SET_PWD: "设置口令",
    Op.VFY_PWD: "验证口令",
    Op.GET_RANDOM_CODE: "取随机数",
    Op.SET_ADDR: "设置地址",
    Op.WRITE_NOTEPAD: "写记事本",
    Op.READ_NOTEPAD: "读记事本",
    Op.HIGH_SPEED_SEARCH: "高速搜索",
    Op.TEMPLATE_NUM: "读取模板数",
    Op.READ_INDEX_TABLE: "读取索引表",
}


class SysParam(IntEnum):
    """Register numbers for SetSysPara."""

    BAUD = 4  # N, baud = 9600 × N
    SECURITY_LEVEL = 5  # 1..5
    PACKET_SIZE = 6  # code 0..3


# packets -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Packet:
    address: int
    identifier: int
    payload: bytes

    @property
    def code(self) -> int:
        """Confirmation code of an acknowledge (opcode of a command); -1 if the payload is empty."""
        return self.payload[0] if self.payload else -1

    def encode(self) -> bytes:
        return encode_packet(self.address, self.identifier, self.payload)


def checksum(identifier: int, payload: bytes) -> int:
    """Identifier + both LEN bytes + every payload byte, modulo 2¹⁶ (no header, no address)."""
    length = len(payload) + CHECKSUM_SIZE
    return (identifier + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode_packet(address: int, identifier: int, payload: bytes) -> bytes:
    if identifier not in IDENTIFIERS:
        raise ValueError(f"identifier {identifier:#04x} is not 01/02/07/08")
    if not 0 <= address <= 0xFFFFFFFF:
        raise ValueError(f"address {address:#x} does not fit in 32 bits")
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    length = len(payload) + CHECKSUM_SIZE
    return (
        HEADER
        + struct.pack(">IBH", address, identifier, length)
        + payload
        + struct.pack(">H", checksum(identifier, payload))
    )


def command(address: int, payload: bytes) -> bytes:
    return encode_packet(address, PID_COMMAND, payload)


def data_packets(address: int, data: bytes, packet_size: int, *, final: bool = True) -> list[bytes]:
    """``data`` cut into packets of ``packet_size``; the last one is ``08`` (its checksum then uses
    identifier 08 — the classic bug is computing it with 02) unless ``final`` is false, which is
    how some clones send."""
    if packet_size <= 0:
        raise ValueError("packet size must be positive")
    chunks = [data[i : i + packet_size] for i in range(0, len(data), packet_size)] or [b""]
    out = []
    for i, chunk in enumerate(chunks):
        last = i == len(chunks) - 1
        out.append(encode_packet(address, PID_END if last and final else PID_DATA, chunk))
    return out


# command builders (payloads) -----------------------------------------------------------------
def _u8(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"{name} {value} does not fit in one byte")
    return value


def _u16(name: str, value: int) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise ValueError(f"{name} {value} does not fit in 16 bits")
    return struct.pack(">H", value)


def _u32(name: str, value: int) -> bytes:
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{name} {value} does not fit in 32 bits")
    return struct.pack(">I", value)


def vfy_pwd(password: int = DEFAULT_PASSWORD) -> bytes:
    return bytes([Op.VFY_PWD]) + _u32("password", password)


def set_pwd(password: int) -> bytes:
    return bytes([Op.SET_PWD]) + _u32("password", password)


def set_addr(address: int) -> bytes:
    return bytes([Op.SET_ADDR]) + _u32("address", address)


def gen_img() -> bytes:
    return bytes([Op.GEN_IMG])


def img2tz(buffer: int) -> bytes:
    return bytes([Op.IMG2TZ, _u8("buffer", buffer)])


def match() -> bytes:
    return bytes([Op.MATCH])


def search(buffer: int, start: int, count: int) -> bytes:
    return bytes([Op.SEARCH, _u8("buffer", buffer)]) + _u16("start", start) + _u16("count", count)


def high_speed_search(buffer: int, start: int, count: int) -> bytes:
    """Only for completeness and the simulator: R503/R551 never answer it (use ``search``)."""
    return bytes([Op.HIGH_SPEED_SEARCH]) + search(buffer, start, count)[1:]


def reg_model() -> bytes:
    return bytes([Op.REG_MODEL])


def store(buffer: int, slot: int) -> bytes:
    return bytes([Op.STORE, _u8("buffer", buffer)]) + _u16("slot", slot)


def load_char(buffer: int, slot: int) -> bytes:
    return bytes([Op.LOAD_CHAR, _u8("buffer", buffer)]) + _u16("slot", slot)


def up_char(buffer: int) -> bytes:
    return bytes([Op.UP_CHAR, _u8("buffer", buffer)])


def down_char(buffer: int) -> bytes:
    return bytes([Op.DOWN_CHAR, _u8("buffer", buffer)])


def delete_char(slot: int, count: int = 1) -> bytes:
    return bytes([Op.DELETE_CHAR]) + _u16("slot", slot) + _u16("count", count)


def empty() -> bytes:
    return bytes([Op.EMPTY])


def set_sys_para(param: int, value: int) -> bytes:
    return bytes([Op.SET_SYS_PARA, _u8("parameter", param), _u8("value", value)])


def read_sys_para() -> bytes:
    return bytes([Op.READ_SYS_PARA])


def get_random_code() -> bytes:
    return bytes([Op.GET_RANDOM_CODE])


def template_num() -> bytes:
    return bytes([Op.TEMPLATE_NUM])


def read_index_table(page: int) -> bytes:
    if not 0 <= page < INDEX_PAGES:
        raise ValueError(f"index page {page} is not 0..{INDEX_PAGES - 1}")
    return bytes([Op.READ_INDEX_TABLE, page])


def write_notepad(page: int, data: bytes) -> bytes:
    if not 0 <= page < NOTEPAD_PAGES:
        raise ValueError(f"notepad page {page} is not 0..{NOTEPAD_PAGES - 1}")
    if len(data) > NOTEPAD_PAGE_SIZE:
        raise ValueError(f"a notepad page holds {NOTEPAD_PAGE_SIZE} bytes, got {len(data)}")
    return bytes([Op.WRITE_NOTEPAD, page]) + data.ljust(NOTEPAD_PAGE_SIZE, b"\x00")


def read_notepad(page: int) -> bytes:
    if not 0 <= page < NOTEPAD_PAGES:
        raise ValueError(f"notepad page {page} is not 0..{NOTEPAD_PAGES - 1}")
    return bytes([Op.READ_NOTEPAD, page])


# result parsers (acknowledge payloads, confirmation byte included) ---------------------------
def _need(payload: bytes, size: int, what: str) -> None:
    if len(payload) < size:
        detail = f"{what}：期望 {size} 字节，收到 {len(payload)}"
        raise FramingError("指纹模块应答数据不完整，请重试", detail=detail)


@dataclass(frozen=True)
class SystemParameters:
    status: int
    system_id: int
    library_size: int
    security_level: int
    address: int
    packet_size_code: int
    baud_n: int

    SIZE = 17  # with the confirmation byte

    @property
    def packet_size(self) -> int:
        """Bytes per data packet; an out-of-range code falls back to the smallest, which every
        module accepts (256-byte packets are the ones known to fail)."""
        if 0 <= self.packet_size_code < len(PACKET_SIZES):
            return PACKET_SIZES[self.packet_size_code]
        return PACKET_SIZES[0]

    @property
    def baudrate(self) -> int:
        return BAUD_UNIT * self.baud_n

    @property
    def busy(self) -> bool:
        return bool(self.status & 0x01)

    @property
    def match_found(self) -> bool:
        return bool(self.status & 0x02)

    @property
    def password_verified(self) -> bool:
        return bool(self.status & 0x04)

    @property
    def image_valid(self) -> bool:
        return bool(self.status & 0x08)

    def status_text(self) -> str:
        flags = [
            name
            for flag, name in (
                (self.busy, "busy"),
                (self.match_found, "match found"),
                (self.password_verified, "password verified"),
                (self.image_valid, "image valid"),
            )
            if flag
        ]
        return f"0x{self.status:04X}" + (f" ({', '.join(flags)})" if flags else " (idle)")

    def encode(self, code: int = 0) -> bytes:
        """The acknowledge payload a module sends (used by the simulator)."""
        return struct.pack(
            ">BHHHHIHH",
            code,
            self.status,
            self.system_id,
            self.library_size,
            self.security_level,
            self.address,
            self.packet_size_code,
            self.baud_n,
        )


def parse_system_parameters(payload: bytes) -> SystemParameters:
    _need(payload, SystemParameters.SIZE, "系统参数")
    _, status, system_id, library, level, address, size_code, baud_n = struct.unpack(
        ">BHHHHIHH", payload[: SystemParameters.SIZE]
    )
    return SystemParameters(status, system_id, library, level, address, size_code, baud_n)


@dataclass(frozen=True)
class SearchResult:
    slot: int
    score: int


def parse_search_result(payload: bytes) -> SearchResult:
    _need(payload, 5, "搜索结果")
    slot, score = struct.unpack(">HH", payload[1:5])
    return SearchResult(slot, score)


def parse_u16(payload: bytes, what: str = "数值") -> int:
    """The u16 after the confirmation byte (Match score, TemplateNum)."""
    _need(payload, 3, what)
    return int(struct.unpack(">H", payload[1:3])[0])


def parse_u32(payload: bytes, what: str = "数值") -> int:
    _need(payload, 5, what)
    return int(struct.unpack(">I", payload[1:5])[0])


def parse_notepad(payload: bytes) -> bytes:
    _need(payload, 1 + NOTEPAD_PAGE_SIZE, "记事本")
    return bytes(payload[1 : 1 + NOTEPAD_PAGE_SIZE])


def parse_index_table(page: int, payload: bytes) -> set[int]:
    """Used slots on one ReadIndexTable page: byte i, bit j (LSB first) is page×256 + 8i + j."""
    _need(payload, 1 + INDEX_PAGE_SLOTS // 8, "索引表")
    used = set()
    for i, byte in enumerate(payload[1 : 1 + INDEX_PAGE_SLOTS // 8]):
        for bit in range(8):
            if byte >> bit & 1:
                used.add(page * INDEX_PAGE_SLOTS + i * 8 + bit)
    return used


def encode_index_table(page: int, used: Iterable[int]) -> bytes:
    """The 32-byte bitmap of one page (used by the simulator)."""
    bitmap = bytearray(INDEX_PAGE_SLOTS // 8)
    base = page * INDEX_PAGE_SLOTS
    for slot in used:
        offset = slot - base
        if 0 <= offset < INDEX_PAGE_SLOTS:
            bitmap[offset // 8] |= 1 << (offset % 8)
    return bytes(bitmap)
