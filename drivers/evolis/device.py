"""An Evolis card printer on a serial transport: status, and printing a monochrome card safely.

The one promise ``print_card`` keeps: a job interrupted mid-way never silently leaves a
half-printed card in the output hopper. Once the printer has taken a card (``Ss``), any failure —
NACK (cover opened, ribbon out, jam), no answer, garbled answer, cancel — makes the driver send
the card to the reject box (``Ser``) before raising, and the raised error says in Chinese what
happened to the card and what the clerk should do. A failure before the card is taken (feeder
empty, wrong ribbon, cover open at the start) raises without consuming a card.

"Resume" means: fix the cause, then call ``print_card`` again with the same panels — the whole
card is printed anew on a fresh blank. Evolis has no way to continue on a card that already left
the print position, and a partly printed card is waste anyway. ``print_card`` is safe to call
again on the same object: if the previous job could not get its card out (the printer was
unplugged or stopped answering), the next job first sends that card to the reject box, and
refuses to start if that fails, so two jobs never print over one card.

Timeouts are per command (``Timeouts``); every command also gets the time its bytes need on the
wire at the port's baud rate (10 bits a byte) × ``line_margin``, counted from before its first
byte: an uncompressed panel needs 86 s at 9600 baud, a compressed text card far less, and the
budget follows whatever ``--baud`` the printer was set to.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

from drivers.errors import (
    CancelledByUserError,
    DeviceError,
    DeviceReportedError,
    DeviceTimeoutError,
    DisconnectedError,
    FramingError,
    TransportError,
)
from drivers.evolis import codec
from drivers.evolis.panel import Panel, compress_lines
from drivers.transport import Transport, deadline_in

DEFAULT_BAUD = 9600  # the guide's own Pcom example (``Pcom;1;9600;N;8;1``); set higher if you can
_MAX_REPLY = 4096  # more than this without a terminator: wrong baud rate or not an Evolis


@dataclass(frozen=True)
class Timeouts:
    """Seconds each kind of command may take before the printer is declared unresponsive."""

    query: float = 3.0  # R… status reads
    setting: float = 3.0  # P… parameters
    insert: float = 15.0  # Ss / Si: take a card from the feeder
    side: float = 10.0  # Sr / Sv: position or turn the card over
    panel: float = 30.0  # a bitmap command: printing the panel, beyond its transfer time
    eject: float = 30.0  # Se
    reject: float = 15.0  # Ser
    line_margin: float = 1.5  # × the wire time of a command's bytes

    @classmethod
    def uniform(cls, seconds: float) -> Timeouts:
        """Every command gets ``seconds`` (tests, and diagnostics on a known-fast link)."""
        return cls(seconds, seconds, seconds, seconds, seconds, seconds, seconds)


class PrinterReportedError(DeviceReportedError):
    """The printer answered NACK (or ``ERR …``); ``reason`` is the stable name of the code."""

    code = "PRINTER_REPORTED"

    def __init__(self, info: codec.NackInfo, message: str | None = None, *, detail: str = ""):
        self.info = info
        self.reason = info.name
        super().__init__(info.code, message or info.message, detail=detail)


class PrintInterruptedError(PrinterReportedError):
    """A job failed after the card was taken; ``rejected`` tells whether it reached the reject
    box (if not, the clerk must take it out by hand — the message says so)."""

    code = "PRINT_INTERRUPTED"

    def __init__(self, info: codec.NackInfo, *, rejected: bool, detail: str = "") -> None:
        self.rejected = rejected
        super().__init__(info, info.interrupted_message(rejected=rejected), detail=detail)


@dataclass(frozen=True)
class PrinterStatus:
    """What the status commands said; a field is None when the model did not answer it."""

    model: str | None
    firmware: str | None
    serial_number: str | None
    ribbon_type: str | None  # as a ``Pr`` name ("ko", "ymcko"…), parsed from ``Rr``
    ribbon_reply: str | None  # ``Rr`` as answered
    ribbon_state: str | None  # ``Rcr``: "OK" unless the ribbon is at its end
    counters: dict[str, int] = field(default_factory=dict)  # ``Rco``, names lower-cased
    feeder_empty: bool | None = None  # ``Sk;f``
    feeder_low: bool | None = None  # ``Sk;w``
    last_print: str | None = None  # ``Rlr;p``: "OK", "NO CARD", "ERR CARD"
    needs_cleaning: bool | None = None  # ``Rlr;r``
    # No documented command reads the cover; known only when an answer names it.
    cover_open: bool | None = None

    @property
    def ribbon_ok(self) -> bool | None:
        return None if self.ribbon_state is None else self.ribbon_state.upper() == "OK"

    @property
    def cards_printed(self) -> int | None:
        return self.counters.get("cards")

    def lines(self) -> list[tuple[str, str]]:
        """``(key, value)`` pairs for a technician's ``key: value`` listing."""

        def show(value: object) -> str:
            if value is None:
                return "未知"
            if isinstance(value, bool):
                return "是" if value else "否"
            return str(value)

        rows = [
            ("model", show(self.model)),
            ("firmware", show(self.firmware)),
            ("serial", show(self.serial_number)),
            ("ribbon", show(self.ribbon_type or self.ribbon_reply)),
            ("ribbon_state", show(self.ribbon_state)),
            ("feeder_empty", show(self.feeder_empty)),
            ("feeder_low", show(self.feeder_low)),
            ("last_print", show(self.last_print)),
            ("needs_cleaning", show(self.needs_cleaning)),
            ("cover_open", show(self.cover_open)),
        ]
        rows += [(f"counter.{name}", str(value)) for name, value in self.counters.items()]
        return rows


@dataclass(frozen=True)
class _Step:
    label: str  # for on_progress, Chinese
    frame: bytes
    timeout: float


ProgressCallback = Callable[[str, float], None]


class EvolisPrinter:
    """An Evolis printer (Tattoo, Pebble, Dualys, Quantum) in ACK/NACK or plain-text mode.

    ``ack_nack=True`` (recommended: set the printer with ``Pcom;1;9600;N;8;1;ACK/NACK;E``) expects
    ACK / NACK+code answers; ``False`` expects ``OK`` / ``ERR …`` text answers instead.
    ``compress`` sends panels with ``Dbc`` (a text card is mostly white: several times fewer
    bytes on a slow serial line) instead of ``Db``.
    """

    def __init__(
        self,
        transport: Transport,
        *,
        ack_nack: bool = True,
        timeouts: Timeouts | None = None,
        compress: bool = True,
    ) -> None:
        self.transport = transport
        self.ack_nack = ack_nack
        self.timeouts = timeouts or Timeouts()
        self.compress = compress
        # True from the moment a card may have been taken until it is known to be out
        self.card_may_be_inside = False
        self._rx = bytearray()

    def __enter__(self) -> EvolisPrinter:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        self.transport.open()

    def close(self) -> None:
        self.transport.close()

    # one command -----------------------------------------------------------------------------
    def command(self, command: str, *params: codec.Param, timeout: float | None = None) -> str:
        """Send any command; returns its text answer ("" for ACK). NACK → PrinterReportedError.

        For technicians and for commands this class has no method for; read commands (``R…``,
        ``Sk``) are read as text.
        """
        is_read = command.startswith("R") or command == "Sk"
        if timeout is None:
            timeout = self.timeouts.query if is_read else self.timeouts.setting
        return self._exchange(codec.encode(command, *params), timeout=timeout, text=is_read)

    def _exchange(self, frame: bytes, *, timeout: float, text: bool) -> str:
        if not self.transport.is_open:
            self.transport.open()
        name = frame[1:].split(b";", 1)[0].rstrip(b"\r").decode("ascii", "replace")
        # the deadline counts from before the first byte, so it includes the transfer
        deadline = deadline_in(timeout + self._wire_seconds(len(frame)) * self.timeouts.line_margin)
        self._rx.clear()  # anything unread belongs to an earlier, finished exchange
        self.transport.flush_input()
        self._send(frame)
        reply = self._receive(deadline, text=text, name=name)
        if isinstance(reply, codec.Nack):
            raise PrinterReportedError(reply.info, detail=name)
        if isinstance(reply, codec.Ack):
            return ""
        if not text:
            code = codec.text_error_code(reply.text)
            if code is not None:
                raise PrinterReportedError(codec.nack_info(code), detail=f"{name}: {reply.text}")
        return reply.text

    def _wire_seconds(self, size: int) -> float:
        return size * 10 / max(self.transport.baudrate, 1)

    def _send(self, frame: bytes) -> None:
        """Write in pieces of about half a second of line time, so no single write outlasts the
        transport's 2 s write timeout on a slow line (an 82 KB panel takes 86 s at 9600 baud)."""
        chunk = max(64, self.transport.baudrate // 20)
        for start in range(0, len(frame), chunk):
            self.transport.write(frame[start : start + chunk])

    def _receive(self, deadline: float, *, text: bool, name: str) -> codec.Reply:
        while True:
            reply, used = codec.take_reply(self._rx, text=text)
            del self._rx[:used]
            if reply is not None:
                return reply
            if len(self._rx) > _MAX_REPLY:
                raise FramingError(detail=f"{name}: {len(self._rx)} 字节仍无结束符")
            chunk = self.transport.read_available(deadline)
            if chunk:
                self._rx += chunk
            elif time.monotonic() >= deadline:
                raise DeviceTimeoutError(
                    "卡片打印机无响应，请确认打印机已开机、端口和波特率设置正确",
                    detail=f"{name} 未收到应答",
                )

    def _read_optional(self, frame: bytes) -> str | None:
        """A status read that an older model may not know (NACK): None instead of an error."""
        try:
            return self._exchange(frame, timeout=self.timeouts.query, text=True)
        except PrinterReportedError:
            return None

    # status ----------------------------------------------------------------------------------
    def status(self) -> PrinterStatus:
        """Model, firmware, serial number, ribbon, counters, feeder and last result.

        A printer that does not answer at all raises ``DeviceTimeoutError``; single unknown
        commands just leave their field None.
        """
        read = self._read_optional
        model = read(codec.read_model())
        firmware = read(codec.read_firmware())
        serial_number = read(codec.read_serial_number())
        ribbon_reply = read(codec.read_ribbon_type())
        ribbon_state = read(codec.read_ribbon_state())
        counters_reply = read(codec.read_counters())
        empty = read(codec.feeder_query("f"))
        low = read(codec.feeder_query("w"))
        last_print = read(codec.read_last_print())
        cleaning = read(codec.read_cleaning())
        empty_code = None if empty is None else codec.parse_sensor(empty)
        low_code = None if low is None else codec.parse_sensor(low)
        answers = " ".join(a for a in (last_print, ribbon_state) if a).upper()
        return PrinterStatus(
            model=model,
            firmware=firmware,
            serial_number=serial_number,
            ribbon_type=None if ribbon_reply is None else codec.parse_ribbon_type(ribbon_reply),
            ribbon_reply=ribbon_reply,
            ribbon_state=ribbon_state,
            counters={} if counters_reply is None else codec.parse_counters(counters_reply),
            feeder_empty=None if empty_code is None else empty_code != 0,
            feeder_low=None if low_code is None else low_code != 0,
            last_print=last_print,
            needs_cleaning=None if cleaning is None else "CLEAN" in cleaning.upper(),
            cover_open=True if "COVER" in answers else None,
        )

    # card movements --------------------------------------------------------------------------
    def eject(self) -> None:
        """``Se``: the card inside goes to the output hopper (ends a sequence)."""
        self._exchange(codec.eject(), timeout=self.timeouts.eject, text=False)
        self.card_may_be_inside = False

    def reject(self) -> None:
        """``Ser``: the card inside goes to the reject box."""
        self._exchange(codec.reject_card(), timeout=self.timeouts.reject, text=False)
        self.card_may_be_inside = False

    def reset(self) -> None:
        """``Srs``: reset the printer (ends a sequence; does not move a card)."""
        self._exchange(codec.reset(), timeout=self.timeouts.insert, text=False)

    # printing --------------------------------------------------------------------------------
    def print_card(
        self,
        front_k: Panel,
        *,
        overlay: Panel | bool = True,
        back_k: Panel | None = None,
        feeder: str = "F",
        ribbon: str | None = None,
        cancel: Callable[[], bool] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        """Print one card: black front, overlay (``True`` = varnish everywhere, a ``Panel`` =
        that shape, ``False`` = none) on each printed side, optional black back.

        ``ribbon`` defaults to the one the printer reports (``Rr``). ``cancel()`` is polled
        between commands; ``on_progress(label, fraction)`` reports each step. See the module
        docstring for what happens to the card when something fails.
        """
        overlay_panel = _overlay_panel(overlay)
        if not isinstance(front_k, Panel) or not isinstance(back_k, Panel | None):
            raise TypeError("front_k and back_k must be Panel objects")
        feeder_frame = codec.set_feeder(feeder)
        steps = self._card_steps(front_k, overlay_panel, back_k)
        report = on_progress or (lambda label, fraction: None)

        if self.card_may_be_inside:
            self._clear_leftover_card()
        if cancel is not None and cancel():
            raise CancelledByUserError("打印已取消")
        report("准备打印", 0.0)
        self._set_host_error_mode()
        job_ribbon = self._job_ribbon(ribbon, wants_overlay=overlay_panel is not None)
        self._exchange(codec.set_ribbon(job_ribbon), timeout=self.timeouts.setting, text=False)
        self._exchange(feeder_frame, timeout=self.timeouts.setting, text=False)
        if cancel is not None and cancel():
            raise CancelledByUserError("打印已取消")

        report("进卡", 0.05)
        self.card_may_be_inside = True
        try:
            self._exchange(codec.start_sequence(), timeout=self.timeouts.insert, text=False)
        except PrinterReportedError:
            self.card_may_be_inside = False  # the printer refused to start: it took no card
            raise
        except DeviceError as err:
            self._abort(err)
        try:
            for index, step in enumerate(steps):
                if cancel is not None and cancel():
                    raise _CancelledMidJobError
                report(step.label, 0.1 + 0.9 * index / len(steps))
                self._exchange(step.frame, timeout=step.timeout, text=False)
        except _CancelledMidJobError:
            rejected = self._try_reject()
            if rejected:
                raise CancelledByUserError("打印已取消，未完成的卡片已退入废卡盒") from None
            raise CancelledByUserError(
                "打印已取消，未完成的卡片未能退入废卡盒，请从打印机中取出该卡片"
            ) from None
        except DeviceError as err:
            self._abort(err)
        self.card_may_be_inside = False
        report("完成", 1.0)

    def _card_steps(self, front: Panel, overlay: Panel | None, back: Panel | None) -> list[_Step]:
        """Every command after ``Ss``, built before the first byte goes out."""
        t = self.timeouts
        steps = [_Step("定位正面", codec.front_side(), t.side)]
        steps.append(_Step("打印正面黑色", self._bitmap_frame("k", front), t.panel))
        if overlay is not None:
            steps.append(_Step("打印正面保护层", self._bitmap_frame("o", overlay), t.panel))
        if back is not None:
            steps.append(_Step("翻转卡片", codec.back_side(), t.side))
            steps.append(_Step("打印背面黑色", self._bitmap_frame("k", back), t.panel))
            if overlay is not None:
                steps.append(_Step("打印背面保护层", self._bitmap_frame("o", overlay), t.panel))
        steps.append(_Step("出卡", codec.end_sequence(), t.eject))
        return steps

    def _bitmap_frame(self, panel: str, bitmap: Panel) -> bytes:
        if self.compress:
            return codec.download_compressed(panel, compress_lines(bitmap))
        return codec.download_bitmap(panel, bitmap.to_bytes())

    def _set_host_error_mode(self) -> None:
        """``Pem;2``: errors are reported to us and the card waits, so the driver decides where
        it goes. A model without ``Pem`` (NACK 1) handles errors itself; that is fine too."""
        try:
            self._exchange(codec.set_error_mode(2), timeout=self.timeouts.setting, text=False)
        except PrinterReportedError as err:
            if err.info.code != "1":
                raise

    def _job_ribbon(self, ribbon: str | None, *, wants_overlay: bool) -> str:
        if ribbon is None:
            reply = self._read_optional(codec.read_ribbon_type())
            ribbon = None if reply is None else codec.parse_ribbon_type(reply)
        if ribbon is None:
            return "ko" if wants_overlay else "k"
        if wants_overlay and "o" not in ribbon:
            raise PrinterReportedError(
                codec.nack_info("R"),
                f"当前色带（{ribbon.upper()}）不含保护层，请更换 KO 色带，或选择不打印保护层",
            )
        if "k" not in ribbon:
            raise PrinterReportedError(
                codec.nack_info("R"), f"当前色带（{ribbon.upper()}）不含黑色面，请更换色带"
            )
        return ribbon

    def _clear_leftover_card(self) -> None:
        """A previous job could not get its card out: reject it before taking a new one."""
        try:
            self.reject()
        except PrinterReportedError as err:
            raise PrinterReportedError(
                err.info,
                "上一张未完成的卡片仍在打印机内且无法退出；请打开上盖取出该卡片后重新打印",
                detail=err.detail,
            ) from err

    def _try_reject(self) -> bool:
        try:
            self.reject()
        except DeviceError:
            return False
        return True

    def _abort(self, err: DeviceError) -> NoReturn:
        """After the card may have been taken: get it to the reject box, then raise an error
        whose message says what happened to it."""
        if isinstance(err, PrinterReportedError):
            rejected = self._try_reject()
            raise PrintInterruptedError(err.info, rejected=rejected, detail=err.detail) from err
        if isinstance(err, TransportError):  # the port is gone: nothing can be sent
            raise DisconnectedError(
                "打印过程中卡片打印机断开连接，未完成的卡片可能仍在打印机内；"
                "请重新连接打印机，取出该卡片后重新打印",
                detail=err.detail,
            ) from err
        rejected = self._try_reject()
        card = (
            "未完成的卡片已退入废卡盒；请检查打印机后重新打印"
            if rejected
            else "未完成的卡片可能仍在打印机内；请检查打印机并取出该卡片后重新打印"
        )
        if isinstance(err, DeviceTimeoutError):
            raise DeviceTimeoutError(
                f"卡片打印机在打印过程中无响应，{card}", detail=err.detail
            ) from err
        if isinstance(err, FramingError):
            raise FramingError(f"卡片打印机应答格式错误，{card}", detail=err.detail) from err
        raise err


class _CancelledMidJobError(Exception):
    """Internal: cancel() said yes after the card was taken."""


def _overlay_panel(overlay: Panel | bool) -> Panel | None:
    if overlay is True:
        return Panel.full()
    if overlay is False or overlay is None:
        return None
    if isinstance(overlay, Panel):
        return overlay
    raise TypeError("overlay must be a Panel, True or False")
