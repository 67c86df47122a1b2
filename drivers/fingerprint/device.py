"""A fingerprint module (ZFM-20/60, R30x, R503, AS608) on a ``Transport``.

The primitives (``gen_image``, ``capture``, ``search``, ``reg_model``, ``store`` …) are public
because the desk client runs the enrolment steps with its own prompts and progress display;
``enrol`` is the same sequence for the CLI and for callers that want it in one call.

How bytes travel (deadlines scaled by baud rate, the deframer, one retry for idempotent
commands, silences explained) is ``channel.Channel``; this class is what the commands mean.
Search uses opcode 04, never HighSpeedSearch (1B), which R503/R551 modules do not answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

from drivers.errors import ChecksumError, DeviceError, DeviceTimeoutError, FramingError
from drivers.fingerprint import codec, codes
from drivers.fingerprint.channel import PACKET_OVERHEAD, Allowances, Channel, expect_ok
from drivers.fingerprint.codec import (
    DEFAULT_ADDRESS,
    INDEX_PAGE_SLOTS,
    INDEX_PAGES,
    PID_DATA,
    PID_END,
    SearchResult,
    SysParam,
    SystemParameters,
)
from drivers.fingerprint.errors import (
    FingerprintError,
    FingerTimeoutError,
    SlotInUseError,
    TemplateTooLargeError,
    error_for,
)
from drivers.fingerprint.identity import (
    BLANK_PAGES,
    DEVICE_ID_MAGIC,
    DEVICE_ID_PAGE,
    DeviceIdentity,
    notepad_id,
    port_id,
    station_key,
)
from drivers.fingerprint.prompts import (
    LIFT_FINGER,
    PLACE_AGAIN,
    PLACE_FINGER,
    SEARCHING,
    STORING,
    CancelToken,
    EnrolResult,
    Prompt,
    PromptHandler,
    check_cancel,
    say,
)
from drivers.transport import Transport

__all__ = [
    "LIFT_FINGER",
    "PLACE_AGAIN",
    "PLACE_FINGER",
    "SEARCHING",
    "STORING",
    "Allowances",
    "DeviceIdentity",
    "EnrolResult",
    "FingerprintModule",
    "Prompt",
    "SearchResult",
    "SystemParameters",
]

log = logging.getLogger(__name__)

TEMPLATE_CAP = 4096  # clones send 768–1536 bytes; anything beyond this is a runaway stream
PACKET_ERROR = 0x01  # what a clone without the notepad answers to Read/WriteNotepad
READ, WRITE = codec.OP_LABELS[codec.Op.READ_NOTEPAD], codec.OP_LABELS[codec.Op.WRITE_NOTEPAD]
T = TypeVar("T")


class NoNotepadError(Exception):
    """The module cannot keep our identifier in its notepad; ``args[0]`` says why."""


class FingerprintModule:
    """One module on one port. Not thread-safe: one caller drives it at a time."""

    def __init__(
        self,
        transport: Transport,
        *,
        address: int = DEFAULT_ADDRESS,
        password: int = 0,
        settle: float = 0.5,
        allowances: Allowances | None = None,
        poll_interval: float = 0.1,
        template_cap: int = TEMPLATE_CAP,
        station: str | None = None,
    ) -> None:
        self.transport = transport
        self.address = address
        self.password = password
        self.settle = settle
        self.allowances = allowances or Allowances()
        self.poll_interval = poll_interval
        self.template_cap = template_cap
        self.parameters: SystemParameters | None = None
        self.channel = Channel(transport, address, self.allowances)
        self.station = station  # this workstation for the port identity; None: the OS's own
        self._identity: DeviceIdentity | None = None

    # connection ------------------------------------------------------------------------------
    def connect(self) -> SystemParameters:
        """Open, let the module finish booting, verify the password, read its parameters.

        The module ignores commands for up to ~500 ms after power-on and may have left bytes in
        the adapter; flushing on both sides of the wait keeps them out of the first reply.
        """
        self.transport.open()
        try:
            self.transport.flush_input()
            if self.settle > 0:
                time.sleep(self.settle)
            self.transport.flush_input()
            self.channel.reset_session()
            self._identity = None
            self.channel.call(codec.vfy_pwd(self.password), self.allowances.command)
            return self.read_system_parameters()
        except BaseException:
            self.transport.close()
            raise

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> FingerprintModule:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_system_parameters(self) -> SystemParameters:
        ack = self.channel.call(codec.read_sys_para(), self.allowances.command, reply=28)
        self.parameters = codec.parse_system_parameters(ack.payload)
        return self.parameters

    def _params(self) -> SystemParameters:
        return self.parameters or self.read_system_parameters()

    def set_security_level(self, level: int) -> None:
        if not 1 <= level <= 5:
            raise ValueError(f"security level {level} is not 1..5")
        payload = codec.set_sys_para(SysParam.SECURITY_LEVEL, level)
        self.channel.call(payload, self.allowances.flash)
        self.read_system_parameters()

    # capture ---------------------------------------------------------------------------------
    def gen_image(self) -> bool:
        """One exposure: True if a finger was imaged, False if none is on the sensor."""
        ack = self.channel.transact(codec.gen_img(), self.allowances.capture)
        if ack.code == codes.NO_FINGER:
            return False
        expect_ok(ack)
        return True

    def image_to_tz(self, buffer: int) -> None:
        """Features of the last image into char buffer 1 or 2 (quality errors surface here)."""
        self.channel.call(codec.img2tz(buffer), self.allowances.capture)

    def capture(
        self,
        buffer: int = 1,
        *,
        finger_timeout: float = 20.0,
        cancel: CancelToken | None = None,
        on_prompt: PromptHandler | None = None,
        prompt: Prompt = PLACE_FINGER,
    ) -> None:
        """Wait for a finger (polling GenImg), then extract its features into ``buffer``.

        ``cancel`` is checked before every poll; a quality failure raises at once (the caller
        decides whether to ask for another press).
        """
        say(on_prompt, prompt)
        deadline = time.monotonic() + finger_timeout
        while True:
            check_cancel(cancel)
            if self.gen_image():
                break
            if time.monotonic() >= deadline:
                raise FingerTimeoutError(detail=f"{finger_timeout:g} 秒内未检测到手指")
            self._pause(cancel, deadline)
        check_cancel(cancel)
        self.image_to_tz(buffer)

    def wait_finger_lifted(
        self,
        *,
        timeout: float = 20.0,
        cancel: CancelToken | None = None,
        on_prompt: PromptHandler | None = None,
    ) -> None:
        """Until the sensor is empty, so the second capture is a new press, not the same one."""
        say(on_prompt, LIFT_FINGER)
        deadline = time.monotonic() + timeout
        while True:
            check_cancel(cancel)
            if not self.gen_image():
                return
            if time.monotonic() >= deadline:
                raise FingerTimeoutError("等待抬起手指超时，请抬起手指后重新开始")
            self._pause(cancel, deadline)

    def _pause(self, cancel: CancelToken | None, deadline: float) -> None:
        wait = min(self.poll_interval, max(deadline - time.monotonic(), 0.0))
        if wait <= 0:
            return
        waiter = getattr(cancel, "wait", None)
        if callable(waiter):
            waiter(wait)  # wakes at once when cancelled
        else:
            time.sleep(wait)

    # library ---------------------------------------------------------------------------------
    def search(
        self, buffer: int = 1, start: int = 0, count: int | None = None
    ) -> SearchResult | None:
        """The library slot holding the finger in ``buffer``, or None. Opcode 04, never 1B."""
        if count is None:
            count = max(self._params().library_size - start, 0)
        payload = codec.search(buffer, start, count)
        ack = self.channel.transact(payload, self.allowances.search, reply=16)
        if ack.code == codes.NOT_FOUND:
            return None
        expect_ok(ack)
        return codec.parse_search_result(ack.payload)

    def match(self) -> int | None:
        """Score of char buffer 1 against 2, or None if they are different fingers."""
        ack = self.channel.transact(codec.match(), self.allowances.capture, reply=14)
        if ack.code == codes.NO_MATCH:
            return None
        expect_ok(ack)
        return codec.parse_u16(ack.payload, "比对得分")

    def reg_model(self) -> None:
        """Merge buffers 1 and 2 into one template; 0A means two different fingers. Not
        retried: a repeat would merge the merged template again."""
        self.channel.call(codec.reg_model(), self.allowances.capture, retry=False)

    def store(self, buffer: int, slot: int) -> None:
        self.channel.call(codec.store(buffer, slot), self.allowances.flash)

    def load(self, buffer: int, slot: int) -> None:
        self.channel.call(codec.load_char(buffer, slot), self.allowances.flash)

    def delete(self, slot: int, count: int = 1) -> None:
        self.channel.call(codec.delete_char(slot, count), self.allowances.flash)

    def empty(self) -> None:
        self.channel.call(codec.empty(), self.allowances.erase)

    def template_count(self) -> int:
        ack = self.channel.call(codec.template_num(), self.allowances.command, reply=14)
        return codec.parse_u16(ack.payload, "模板数")

    def used_slots(self) -> set[int]:
        """Occupied slots from the index table, one 256-slot page at a time."""
        size = self._params().library_size
        pages = min((size + INDEX_PAGE_SLOTS - 1) // INDEX_PAGE_SLOTS, INDEX_PAGES)
        used: set[int] = set()
        for page in range(pages):
            payload = codec.read_index_table(page)
            ack = self.channel.call(payload, self.allowances.command, reply=44)
            used |= codec.parse_index_table(page, ack.payload)
        return {slot for slot in used if slot < size}

    def first_free_slot(self) -> int | None:
        used = self.used_slots()
        return next((s for s in range(self._params().library_size) if s not in used), None)

    # templates -------------------------------------------------------------------------------
    def upload_template(self, buffer: int = 1) -> bytes:
        """The template in ``buffer`` as bytes (UpChar, then data packets).

        Reads until the final ``08`` packet, or — for clones that never send it — until the
        stream pauses for ``idle_gap``; more than ``template_cap`` bytes is refused, so a
        runaway stream cannot keep us reading. A corrupt packet restarts the upload once.
        """
        for attempt in (1, 2):
            try:
                return self._upload_once(buffer)
            except (ChecksumError, DeviceTimeoutError) as err:
                if attempt == 2:
                    raise
                log.info("template upload retried after %s", err)
        raise AssertionError("unreachable")

    def _upload_once(self, buffer: int) -> bytes:
        packet_size = self._params().packet_size
        payload = codec.up_char(buffer)
        self.channel.call(payload, self.allowances.command, retry=False, ok=codes.BULK_OK)
        packets = self.template_cap // max(packet_size, 1) + 2
        wire = self.channel.wire_time(self.template_cap + packets * PACKET_OVERHEAD)
        deadline = time.monotonic() + wire + self.allowances.command
        gap = self.allowances.idle_gap + self.channel.wire_time(packet_size + PACKET_OVERHEAD)
        data = bytearray()
        while True:
            wait_until = min(deadline, time.monotonic() + gap) if data else deadline
            try:
                packet = self.channel.next_packet(wait_until, codec.Op.UP_CHAR)
            except DeviceTimeoutError:
                if data:  # a clone that never sends 08: the stream simply stopped
                    log.info("template upload ended without a final packet (%d bytes)", len(data))
                    return bytes(data)
                raise
            if packet.identifier not in (PID_DATA, PID_END):
                raise FramingError(detail=f"上传模板时收到包标识 {packet.identifier:02X}")
            data += packet.payload
            if len(data) > self.template_cap:
                detail = f"已收到 {len(data)} 字节，上限 {self.template_cap}"
                raise TemplateTooLargeError(detail=detail)
            if packet.identifier == PID_END:
                return bytes(data)

    def download_template(self, buffer: int, data: bytes) -> None:
        """Put ``data`` into char buffer ``buffer``: DownChar, ack, then 02 … 08 packets split by
        the module's packet size (no per-packet acknowledge; the last checksum uses 08)."""
        if not data:
            raise ValueError("empty template")
        if len(data) > self.template_cap:
            raise ValueError(f"template of {len(data)} bytes exceeds {self.template_cap}")
        packet_size = self._params().packet_size
        self.channel.call(codec.down_char(buffer), self.allowances.command, ok=codes.BULK_OK)
        self.channel.write_packets(codec.data_packets(self.address, data, packet_size))

    # notepad and identity --------------------------------------------------------------------
    def read_notepad(self, page: int) -> bytes:
        ack = self.channel.call(codec.read_notepad(page), self.allowances.command, reply=44)
        return codec.parse_notepad(ack.payload)

    def write_notepad(self, page: int, data: bytes) -> None:
        self.channel.call(codec.write_notepad(page, data), self.allowances.flash)

    def device_id(self) -> str:
        """What the server files this module's templates under: ``identity().value``."""
        return self.identity().value

    def identity(self) -> DeviceIdentity:
        """The notepad identity, or for a module without a usable notepad the port identity
        (``drivers.fingerprint.identity`` explains both and their trade-off). Read once per
        connection."""
        if self._identity is None:
            try:
                self._identity = DeviceIdentity(self._notepad_identity())
            except NoNotepadError as why:
                url = self.transport.url
                station = self.station if self.station is not None else station_key()
                value = port_id(station, url, self._params())
                log.info("no usable notepad on %s (%s): port identity %s", url, why, value)
                self._identity = DeviceIdentity(value, notepad_problem=str(why))
        return self._identity

    def _notepad_identity(self) -> str:
        """Page 0's identifier, written there first if the page is blank; a page holding someone
        else's data is never overwritten (its hash serves, just as stable)."""
        page = self._notepad(READ, lambda: self.read_notepad(DEVICE_ID_PAGE))
        found = notepad_id(page)
        if found is not None:
            return found
        fresh = DEVICE_ID_MAGIC + uuid.uuid4().bytes
        self._notepad(WRITE, lambda: self.write_notepad(DEVICE_ID_PAGE, fresh))
        kept = self._notepad(READ, lambda: self.read_notepad(DEVICE_ID_PAGE))
        if kept in BLANK_PAGES:  # acknowledged the write and kept nothing
            raise NoNotepadError("写入记事本后读回仍为空白")
        if kept[: len(fresh)] != fresh:
            raise DeviceError("无法在指纹模块中保存设备编号，请重试")
        return fresh[len(DEVICE_ID_MAGIC) :].hex()

    def _notepad(self, label: str, command: Callable[[], T]) -> T:
        """Run one notepad command; raise ``NoNotepadError`` if this model cannot do it.

        A clone without the notepad answers 0x01; one 0x01 may also be a command garbled on the
        line, so it counts only when the repeat answers the same. Silence counts only while the
        module still answers TemplateNum (otherwise it is unplugged or off, and that is the
        error). Every other answer is a real error and raises as such.
        """
        for attempt in (1, 2):
            try:
                return command()
            except FingerprintError as err:
                if err.device_code != PACKET_ERROR:
                    raise
                if attempt == 2:
                    raise NoNotepadError(f"模块对“{label}”指令应答 0x01") from err
            except DeviceTimeoutError as silence:
                try:
                    self.template_count()
                except DeviceTimeoutError:
                    raise silence from None
                raise NoNotepadError(f"模块未应答“{label}”指令") from silence
        raise AssertionError("unreachable")

    # enrolment -------------------------------------------------------------------------------
    def enrol(
        self,
        *,
        slot: int | None = None,
        on_prompt: PromptHandler | None = None,
        cancel: CancelToken | None = None,
        finger_timeout: float = 20.0,
    ) -> EnrolResult:
        """Capture → search → (lift, capture again) → RegModel → Store.

        A finger already in the library is reported (``EnrolResult.duplicate``) and *not*
        stored again: one person, one template. The target slot is checked before anyone
        presses a finger, so a full library or an occupied slot does not waste two presses;
        an explicit ``slot`` that already holds a template is refused, never overwritten.
        """
        target = self._enrol_target(slot)

        def press(buffer: int, prompt: Prompt) -> None:
            self.capture(
                buffer,
                finger_timeout=finger_timeout,
                cancel=cancel,
                on_prompt=on_prompt,
                prompt=prompt,
            )

        press(1, PLACE_FINGER)
        say(on_prompt, SEARCHING)
        hit = self.search(1)
        if hit is not None:
            return EnrolResult(slot=hit.slot, duplicate=hit)
        self.wait_finger_lifted(timeout=finger_timeout, cancel=cancel, on_prompt=on_prompt)
        press(2, PLACE_AGAIN)
        self.reg_model()
        check_cancel(cancel)
        say(on_prompt, STORING)
        self.store(1, target)
        return EnrolResult(slot=target)

    def _enrol_target(self, slot: int | None) -> int:
        size = self._params().library_size
        if slot is None:
            free = self.first_free_slot()
            if free is None:
                raise error_for(0x1F)
            return free
        if not 0 <= slot < size:
            raise error_for(0x0B, detail=f"编号 {slot}，容量 {size}")
        if slot in self.used_slots():
            raise SlotInUseError(f"编号 {slot} 已存有指纹，请先删除或选择其他编号")
        return slot
