"""The Evolis escape language as pure functions: command frames out, replies in.

A command is ``ESC name;p1;…;pn CR`` in ASCII (programming guide A5013 §3). Bitmap commands carry
raw binary data as their last parameter, so a frame is ``bytes``, never ``str``.

Replies. In the ACK/NACK serial protocol (``Pcom;…;ACK/NACK``) an action command is answered with
the single byte ACK (0x06), or NACK (0x15) followed by one code character; read commands answer
with text. How a text reply ends over serial is not documented (one public driver reads to NUL,
USB answers end in CR), so ``take_reply`` accepts CR, NUL and LF as terminators and skips stray
terminators in front of a reply: that covers CR, NUL, CR LF, and an ACK followed by a terminator.
Without the ACK/NACK protocol the printer is expected to answer ``OK`` or an ``ERR …`` text; the
keywords mapped by ``text_error_code`` are a guess to verify on hardware.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ESC = 0x1B
CR = 0x0D
LF = 0x0A
NUL = 0x00
ACK = 0x06
NACK = 0x15
TERMINATORS = frozenset({CR, LF, NUL})

Param = str | int | bytes

RIBBONS = ("ymcko", "ymckok", "ymckos", "ymcks", "ko", "k", "kbo", "kb", "o")
FEEDERS = ("F", "M", "B")
PANELS = ("y", "m", "c", "k", "o")
LEVELS = (2, 32, 64, 128)
ERROR_MODES = (0, 1, 2)
FLOW_CONTROLS = ("NONE", "XON/XOFF", "RTS/CTS", "BOTH", "ACK/NACK")


# commands ------------------------------------------------------------------------------------
def encode(command: str, *params: Param) -> bytes:
    """``ESC command;p1;…;pn CR``. ``bytes`` parameters (bitmap data) go out unchanged.

    Text parameters must not contain the separator or CR: the printer would split or end the
    command there, so that is a programming error here rather than a printer error later.
    """
    if not command or not command.isascii() or not command.isalpha():
        raise ValueError(f"invalid Evolis command name: {command!r}")
    out = bytearray([ESC])
    out += command.encode("ascii")
    for param in params:
        out += b";"
        if isinstance(param, bytes | bytearray):
            out += param
            continue
        text = str(param)
        if not text.isascii() or any(ch in text for ch in ";\r\x1b"):
            raise ValueError(f"invalid parameter for {command}: {text!r}")
        out += text.encode("ascii")
    out.append(CR)
    return bytes(out)


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {allowed}, got {value!r}")
    return value


def set_ribbon(ribbon: str) -> bytes:
    """``Pr;ko`` — the ribbon the job is printed with (must match the ribbon installed)."""
    return encode("Pr", _choice(ribbon, RIBBONS, "ribbon"))


def set_feeder(feeder: str) -> bytes:
    """``Pmi;F|M|B`` — card from the feeder, the manual slot, or either."""
    return encode("Pmi", _choice(feeder, FEEDERS, "feeder"))


def set_contrast(panel: str, value: int, op: str = "=") -> bytes:
    """``Pc;k;=;10`` — set (``=``) or shift (``+``/``-``) a panel's contrast."""
    _choice(panel, PANELS, "panel")
    _choice(op, ("=", "+", "-"), "operator")
    return encode("Pc", panel, op, int(value))


def set_error_mode(mode: int) -> bytes:
    """``Pem;0|2`` — 0: the printer handles errors itself; 2: it reports them and waits for us."""
    if mode not in ERROR_MODES:
        raise ValueError(f"error mode must be one of {ERROR_MODES}")
    return encode("Pem", mode)


def serial_config(
    port: int = 1,
    baud: int = 9600,
    *,
    parity: str = "N",
    databits: int = 8,
    stopbits: int = 1,
    flow: str = "ACK/NACK",
    enable: str = "E",
) -> bytes:
    """``Pcom;port;baud;parity;databits;stop;flow;enable`` — enables and saves the serial port."""
    _choice(parity, ("N", "O", "E"), "parity")
    _choice(flow, FLOW_CONTROLS, "flow control")
    _choice(enable, ("E", "R", "D"), "enable")
    return encode("Pcom", port, baud, parity, databits, stopbits, flow, enable)


def read_serial_config(port: int = 1) -> bytes:
    return encode("Rcom", port)


def start_sequence() -> bytes:
    """``Ss`` — start a card sequence; the printer takes a card from the chosen feeder."""
    return encode("Ss")


def front_side() -> bytes:
    return encode("Sr")


def back_side() -> bytes:
    """``Sv`` — turn the card over (duplex printers)."""
    return encode("Sv")


def download_bitmap(panel: str, data: bytes, levels: int = 2) -> bytes:
    """``Db;panel;levels;data`` — a whole uncompressed panel (82,296 bytes for K/O)."""
    _choice(panel, PANELS, "panel")
    if levels not in LEVELS:
        raise ValueError(f"levels must be one of {LEVELS}")
    return encode("Db", panel, levels, bytes(data))


def download_compressed(panel: str, data: bytes, levels: int = 2, first_line: int = 0) -> bytes:
    """``Dbc;panel;levels;firstline;nbytes;data`` — compressed lines (see ``panel.compress``)."""
    _choice(panel, PANELS, "panel")
    if levels not in LEVELS:
        raise ValueError(f"levels must be one of {LEVELS}")
    return encode("Dbc", panel, levels, int(first_line), len(data), bytes(data))


def end_sequence() -> bytes:
    """``Se`` — end the sequence and eject the card to the output hopper."""
    return encode("Se")


eject = end_sequence


def insert_card() -> bytes:
    return encode("Si")


def to_contact_station() -> bytes:
    return encode("Sis")


def to_contactless_station() -> bytes:
    return encode("Sic")


def reject_card(*, alternate: bool = False) -> bytes:
    """``Ser`` (or ``Seb`` on models that name it so) — the card goes to the reject box."""
    return encode("Seb" if alternate else "Ser")


def move_card(direction: str, steps: int) -> bytes:
    _choice(direction, ("+", "-"), "direction")
    return encode("Mc", direction, int(steps))


def reset() -> bytes:
    return encode("Srs")


def read_firmware() -> bytes:
    return encode("Rfv")


def read_serial_number() -> bytes:
    return encode("Rsn")


def read_model() -> bytes:
    return encode("Rtp")


def read_ribbon_type() -> bytes:
    return encode("Rr")


def read_ribbon_state() -> bytes:
    return encode("Rcr")


def read_counters() -> bytes:
    return encode("Rco")


def read_last_print() -> bytes:
    """``Rlr;p`` — result of the last print: ``OK``, ``NO CARD``, ``ERR CARD``."""
    return encode("Rlr", "p")


def read_cleaning() -> bytes:
    """``Rlr;r`` — ``ERR NEED CLEANING`` when the rollers are due for cleaning."""
    return encode("Rlr", "r")


def feeder_query(sensor: str) -> bytes:
    """``Sk;f`` empty sensor, ``Sk;w`` low-level warning, ``Sk;s`` feeder link status."""
    return encode("Sk", _choice(sensor, ("f", "w", "s"), "feeder sensor"))


# NACK codes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NackInfo:
    """What one NACK code means, for logs (``name``) and for the clerk (``message``).

    ``what`` and ``fix`` compose the message of a job interrupted by this code, so the clerk is
    told both what happened to the half-printed card and what to do before printing again.
    """

    code: str
    name: str
    message: str
    what: str
    fix: str
    text_reply: str = "ERR UNKNOWN"  # the answer without ACK/NACK protocol (a guess, see above)
    text_keywords: tuple[str, ...] = ()

    def interrupted_message(self, *, rejected: bool) -> str:
        if rejected:
            return f"{self.what}，未完成的卡片已退入废卡盒；请{self.fix}后重新打印"
        return f"{self.what}，未完成的卡片未能退入废卡盒；请取出该卡片并{self.fix}后重新打印"


NACK_CODES: dict[str, NackInfo] = {
    info.code: info
    for info in (
        NackInfo(
            "1",
            "COMMAND_ERROR",
            "卡片打印机不支持该指令，请确认打印机型号与驱动设置一致",
            "卡片打印机拒绝了打印指令",
            "确认打印机型号与驱动设置",
            "ERR CMD",
            ("CMD", "COMMAND"),
        ),
        NackInfo(
            "2",
            "PARAMETER_ERROR",
            "卡片打印机拒绝了指令参数，请检查色带类型和进卡方式设置",
            "卡片打印机拒绝了打印参数",
            "检查色带类型和进卡方式设置",
            "ERR PARAM",
            ("PARAM",),
        ),
        NackInfo(
            "T",
            "MECHANICAL_ERROR",
            "卡片打印机机械故障或动作超时（可能卡卡），请打开上盖取出卡住的卡片",
            "卡片打印机机械故障或动作超时",
            "打开上盖检查",
            "ERR TIMEOUT",
            ("TIMEOUT", "MECHANICAL", "BLOCKED", "JAM"),
        ),
        NackInfo(
            "C",
            "COVER_OPEN",
            "卡片打印机上盖未关闭，请合上上盖",
            "卡片打印机上盖被打开",
            "合上上盖",
            "ERR COVER OPEN",
            ("COVER",),
        ),
        NackInfo(
            "F",
            "FEEDER_ERROR",
            "进卡器无卡，请放入空白卡",
            "进卡失败",
            "在进卡器中放入空白卡",
            "ERR FEEDER",
            ("FEEDER", "NO CARD"),
        ),
        NackInfo(
            "R",
            "RIBBON_ERROR",
            "色带用完或未安装，请更换色带",
            "色带用完或未安装",
            "更换色带",
            "ERR RIBBON",
            ("RIBBON",),
        ),
        NackInfo(
            "K",
            "MAGNETIC_CHECKSUM",
            "磁条写入校验失败，请更换卡片后重试",
            "磁条写入校验失败",
            "更换卡片",
            "ERR MAG CHECKSUM",
            ("CHECKSUM",),
        ),
        NackInfo(
            "D",
            "MAGNETIC_DATA",
            "磁条数据格式错误，请检查要写入磁条的内容",
            "磁条数据格式错误",
            "检查磁条内容",
            "ERR MAG DATA",
            ("MAG DATA",),
        ),
        NackInfo(
            "W",
            "MAGNETIC_WRITE",
            "磁条读写失败，请确认使用带磁条的卡片并按正确方向放入",
            "磁条读写失败",
            "确认卡片带磁条且方向正确",
            "ERR MAG WRITE",
            ("MAG",),
        ),
    )
}


def nack_info(code: str) -> NackInfo:
    """The table entry for ``code``; an unknown code still gets a message a clerk can act on."""
    known = NACK_CODES.get(code)
    if known is not None:
        return known
    shown = code if code.isprintable() else f"0x{ord(code[:1] or chr(0)):02X}"
    return NackInfo(
        code,
        "UNKNOWN_ERROR",
        f"卡片打印机报告了未知错误（代码 {shown}），请检查打印机后重试",
        f"卡片打印机报告了未知错误（代码 {shown}）",
        "检查打印机",
    )


def text_error_code(text: str) -> str | None:
    """The NACK code an ``ERR …`` text answer stands for (non-ACK/NACK protocol), else None."""
    upper = text.strip().upper()
    if not upper.startswith("ERR"):
        return None
    for info in NACK_CODES.values():  # table order: the specific keywords come first
        if any(word in upper for word in info.text_keywords):
            return info.code
    return "?"


def text_error_reply(code: str) -> str:
    """The ``ERR …`` text the simulator answers with when the ACK/NACK protocol is off."""
    return nack_info(code).text_reply


# replies -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Ack:
    pass


@dataclass(frozen=True)
class Nack:
    code: str

    @property
    def info(self) -> NackInfo:
        return nack_info(self.code)


@dataclass(frozen=True)
class Text:
    text: str


Reply = Ack | Nack | Text


def take_reply(buffer: bytes | bytearray, *, text: bool) -> tuple[Reply | None, int]:
    """The first complete reply in ``buffer`` and how many bytes it used (drop them).

    ``text=True`` for read commands: a stray ACK in front of the text is skipped like a
    terminator. ``None`` means "need more bytes"; the count may still be non-zero (skipped
    terminators), so the caller always drops ``used`` bytes.
    """
    skip = TERMINATORS | {ACK} if text else TERMINATORS
    i = 0
    while i < len(buffer) and buffer[i] in skip:
        i += 1
    if i >= len(buffer):
        return None, i
    first = buffer[i]
    if first == ACK:
        return Ack(), i + 1
    if first == NACK:
        if i + 1 >= len(buffer):
            return None, i
        return Nack(chr(buffer[i + 1])), i + 2
    for j in range(i, len(buffer)):
        if buffer[j] in TERMINATORS:
            return Text(bytes(buffer[i:j]).decode("ascii", "replace").strip()), j + 1
    return None, i


def terminator_bytes(name: str) -> bytes:
    """``cr`` / ``nul`` / ``crlf`` (URL option spelling) to the bytes ending a text reply."""
    table = {"cr": b"\r", "nul": b"\x00", "crlf": b"\r\n", "lf": b"\n"}
    try:
        return table[name.lower()]
    except KeyError:
        raise ValueError(f"terminator must be one of {sorted(table)}, got {name!r}") from None


# read-command answers ------------------------------------------------------------------------
_COUNTER_PAIR = re.compile(r"([A-Za-z][A-Za-z _]*?)\s*[=:]\s*(-?\d+)")


def parse_counters(text: str) -> dict[str, int]:
    """``Rco`` answer → counters. Accepts ``NAME=12;NAME2=3`` (also ``:`` and ``,``/space
    separators), a bare number (``{"cards": n}``) or a list of numbers (``counter_1``…): the
    answer's exact layout varies by firmware, so nothing here assumes one."""
    pairs = _COUNTER_PAIR.findall(text)
    if pairs:
        return {name.strip().lower().replace(" ", "_"): int(value) for name, value in pairs}
    numbers = re.findall(r"-?\d+", text)
    if len(numbers) == 1:
        return {"cards": int(numbers[0])}
    return {f"counter_{i}": int(n) for i, n in enumerate(numbers, start=1)}


def parse_ribbon_type(text: str) -> str | None:
    """``Rr`` answer (``KO``, ``RIBBON YMCKO``, ``ko``…) → a ``Pr`` ribbon name, or None."""
    words = re.findall(r"[A-Za-z]+", text.lower())
    for word in reversed(words):
        if word in RIBBONS:
            return word
    return None


def parse_sensor(text: str) -> int | None:
    """``Sk;f`` / ``Sk;w`` answer → 0 (clear), 1 and 2 (feeder 1 or 2), 3 (both); None if odd."""
    match = re.search(r"\d+", text)
    return int(match.group()) if match else None
