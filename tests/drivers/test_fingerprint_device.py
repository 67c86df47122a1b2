"""FingerprintModule against the simulator, over the in-process URL and over a real pty pair.

Each fault a desk can meet is injected in the simulator and must reach the caller as the exact
error class and the Chinese message a clerk would see.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from drivers.errors import (
    CancelledByUserError,
    ChecksumError,
    DeviceTimeoutError,
    DisconnectedError,
    FramingError,
    PortNotFoundError,
)
from drivers.fingerprint import codec
from drivers.fingerprint import errors as fp
from drivers.fingerprint.codec import Op
from drivers.fingerprint.deframer import Deframer
from drivers.fingerprint.device import Allowances, FingerprintModule
from drivers.fingerprint.errors import FingerTimeoutError, SlotInUseError, TemplateTooLargeError
from drivers.fingerprint.prompts import (
    LIFT_FINGER,
    PLACE_AGAIN,
    PLACE_FINGER,
    SEARCHING,
    STORING,
    Prompt,
)
from drivers.fingerprint.simulator import FingerprintSimulator, make_template
from drivers.sim import registry
from drivers.transport import SerialTransport

# the simulator answers at once; these still leave a pty bridge under load plenty of room
FAST = Allowances(
    command=0.25, capture=0.25, search=0.25, flash=0.25, erase=0.25, idle_gap=0.1, margin=2.0
)


@dataclass
class Rig:
    kind: str
    sim: FingerprintSimulator
    port: str
    bridge: object = None
    modules: list[FingerprintModule] = field(default_factory=list)

    def module(self, *, baud: int = 57600, connect: bool = True, **kw: object) -> FingerprintModule:
        options: dict = {"settle": 0, "poll_interval": 0.002, "allowances": FAST, **kw}
        module = FingerprintModule(SerialTransport(self.port, baud), **options)
        self.modules.append(module)
        if connect:
            module.connect()
        return module


@pytest.fixture(params=["url", "pty"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    registry.forget("fpsim")
    sim = FingerprintSimulator()
    if request.param == "url":
        name = f"dev-{uuid.uuid4().hex[:8]}"
        registry.install("fpsim", name, sim)
        r = Rig("url", sim, f"fpsim://{name}")
    else:
        if os.name != "posix":
            pytest.skip("pty pairs exist only on POSIX systems")
        from drivers.sim.pty_bridge import PtyBridge

        bridge = PtyBridge(sim).start()
        r = Rig("pty", sim, bridge.port, bridge)
    yield r
    for module in r.modules:
        module.close()
    if r.bridge is not None:
        r.bridge.stop()  # type: ignore[attr-defined]
    registry.forget("fpsim")


@pytest.fixture
def url_rig() -> Iterator[Rig]:
    """For faults only the in-process link can show (the host's baud rate)."""
    registry.forget("fpsim")
    sim = FingerprintSimulator()
    name = f"dev-{uuid.uuid4().hex[:8]}"
    registry.install("fpsim", name, sim)
    r = Rig("url", sim, f"fpsim://{name}")
    yield r
    for module in r.modules:
        module.close()
    registry.forget("fpsim")


class Person:
    """Acts on the prompts the way the person at the sensor does."""

    def __init__(self, sim: FingerprintSimulator, first: str, second: str | None = None) -> None:
        self.sim, self.first, self.second = sim, first, second or first
        self.heard: list[Prompt] = []

    def __call__(self, prompt: Prompt) -> None:
        self.heard.append(prompt)
        if prompt == PLACE_FINGER:
            self.sim.place_finger(self.first)
        elif prompt == LIFT_FINGER:
            self.sim.lift_finger()
        elif prompt == PLACE_AGAIN:
            self.sim.place_finger(self.second)


# connection ----------------------------------------------------------------------------------
def test_connect_reads_the_system_parameters(rig: Rig) -> None:
    module = rig.module()
    params = module.parameters
    assert params is not None
    assert (params.library_size, params.security_level) == (300, 3)
    assert (params.packet_size, params.baudrate) == (128, 57600)
    assert params.password_verified
    assert rig.sim.commands[:2] == [Op.VFY_PWD, Op.READ_SYS_PARA]


def test_wrong_password_is_a_settings_problem(rig: Rig) -> None:
    rig.sim.password = 0x1234
    with pytest.raises(fp.ModuleAccessError, match="口令错误"):
        rig.module(password=0x9999)
    assert rig.module(password=0x1234).parameters is not None


def test_commands_before_the_password_is_verified_are_refused(rig: Rig) -> None:
    rig.sim.password = 0x1234
    module = rig.module(connect=False)
    module.transport.open()
    with pytest.raises(fp.ModuleAccessError, match="需要先验证口令") as info:
        module.template_count()
    assert info.value.device_code == 0x21


def test_settle_waits_out_a_booting_module(url_rig: Rig) -> None:
    url_rig.sim.settle = 0.15
    url_rig.sim.power_cycle()
    assert url_rig.module(settle=0.2).parameters is not None


def test_a_silent_module_times_out_with_a_hint_about_power_port_and_baud(rig: Rig) -> None:
    rig.sim.link.silent = True
    with pytest.raises(DeviceTimeoutError, match=r"无应答.*波特率") as info:
        rig.module()
    assert type(info.value) is DeviceTimeoutError


def test_baud_mismatch_reads_as_garbage_and_says_so(url_rig: Rig) -> None:
    with pytest.raises(FramingError, match=r"波特率.*9600") as info:
        url_rig.module(baud=9600)
    assert not isinstance(info.value, ChecksumError)


# enrolment -----------------------------------------------------------------------------------
def test_enrol_then_search_finds_the_finger(rig: Rig) -> None:
    module = rig.module()
    person = Person(rig.sim, "alice")
    result = module.enrol(on_prompt=person, finger_timeout=2)
    assert result.created and result.slot == 0
    assert person.heard == [PLACE_FINGER, SEARCHING, LIFT_FINGER, PLACE_AGAIN, STORING]
    assert rig.sim.slots_of("alice") == [0]
    assert Op.HIGH_SPEED_SEARCH not in rig.sim.commands
    rig.sim.place_finger("alice")
    module.capture(1, finger_timeout=1)
    hit = module.search(1)
    assert hit is not None and hit.slot == 0 and hit.score > 0
    rig.sim.place_finger("bob")
    module.capture(1, finger_timeout=1)
    assert module.search(1) is None


def test_enrol_uses_the_first_free_slot_or_the_given_one(rig: Rig) -> None:
    rig.sim.store_finger(0, "x")
    rig.sim.store_finger(1, "y")
    module = rig.module()
    assert module.enrol(on_prompt=Person(rig.sim, "alice"), finger_timeout=2).slot == 2
    assert module.enrol(slot=42, on_prompt=Person(rig.sim, "bob"), finger_timeout=2).slot == 42
    assert module.used_slots() == {0, 1, 2, 42}


def test_a_finger_already_enrolled_is_refused_at_the_search_step(rig: Rig) -> None:
    rig.sim.store_finger(7, "alice")
    module = rig.module()
    person = Person(rig.sim, "alice")
    result = module.enrol(on_prompt=person, finger_timeout=2)
    assert not result.created
    assert result.duplicate is not None and result.slot == result.duplicate.slot == 7
    assert person.heard == [PLACE_FINGER, SEARCHING]
    assert Op.STORE not in rig.sim.commands and Op.REG_MODEL not in rig.sim.commands
    assert module.template_count() == 1


def test_two_different_fingers_fail_at_regmodel(rig: Rig) -> None:
    module = rig.module()
    with pytest.raises(fp.FingerMismatchError) as info:
        module.enrol(on_prompt=Person(rig.sim, "alice", "bob"), finger_timeout=2)
    assert info.value.message == "两次按压不是同一手指，请重新录入"
    assert module.template_count() == 0


def test_auto_presenter_enrols_without_a_person(rig: Rig) -> None:
    rig.sim.auto_finger = "robot"
    module = rig.module()
    assert module.enrol(finger_timeout=2).slot == 0
    assert module.enrol(finger_timeout=2).duplicate is not None


def test_full_library_is_reported_before_anyone_presses(rig: Rig) -> None:
    rig.sim.fill_library()
    module = rig.module()
    with pytest.raises(fp.LibraryFullError, match="指纹库已满"):
        module.enrol(on_prompt=Person(rig.sim, "alice"), finger_timeout=2)
    assert Op.GEN_IMG not in rig.sim.commands


def test_an_occupied_or_impossible_slot_is_refused(rig: Rig) -> None:
    rig.sim.store_finger(3, "x")
    module = rig.module()
    with pytest.raises(SlotInUseError, match="编号 3 已存有指纹"):
        module.enrol(slot=3, on_prompt=Person(rig.sim, "alice"))
    with pytest.raises(fp.SlotOutOfRangeError, match="超出指纹库范围"):
        module.enrol(slot=300, on_prompt=Person(rig.sim, "alice"))


# finger waits and capture faults -------------------------------------------------------------
def test_no_finger_a_few_times_then_success(rig: Rig) -> None:
    module = rig.module()
    rig.sim.place_finger("alice")
    rig.sim.no_finger_polls = 3
    module.capture(1, finger_timeout=2)
    assert rig.sim.commands.count(Op.GEN_IMG) == 4
    assert rig.sim.commands[-1] == Op.IMG2TZ


def test_never_a_finger_times_out(rig: Rig) -> None:
    module = rig.module()
    started = time.monotonic()
    with pytest.raises(FingerTimeoutError, match="等待按压手指超时"):
        module.capture(1, finger_timeout=0.15)
    assert time.monotonic() - started < 1.5


def test_finger_never_lifted_times_out(rig: Rig) -> None:
    module = rig.module()
    rig.sim.place_finger("alice")
    with pytest.raises(FingerTimeoutError, match="等待抬起手指超时"):
        module.wait_finger_lifted(timeout=0.1)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (0x03, "指纹采集失败，请将手指平放在采集窗口并保持不动后重试"),
        (0x04, "手指太干，请擦拭湿润后重试"),
        (0x05, "手指太湿，请擦干后重试"),
        (0x06, "指纹图像不清晰，请清洁采集窗口和手指后重新按压"),
        (0x07, "指纹特征太少，请将手指平放并稍加用力后重新按压"),
    ],
)
def test_quality_failures_reach_the_clerk(rig: Rig, code: int, message: str) -> None:
    module = rig.module()
    rig.sim.place_finger("alice")
    rig.sim.fail_next_capture(code)
    with pytest.raises(fp.FingerprintQualityError) as info:
        module.capture(1, finger_timeout=1)
    assert info.value.device_code == code
    assert info.value.message == message
    module.capture(1, finger_timeout=1)  # the next press works


def test_cancel_during_a_finger_wait(rig: Rig) -> None:
    module = rig.module(poll_interval=0.02)
    cancel = threading.Event()
    timer = threading.Timer(0.1, cancel.set)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(CancelledByUserError, match="操作已取消"):
            module.capture(1, finger_timeout=5, cancel=cancel)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 1.0


def test_cancel_already_set_sends_nothing(rig: Rig) -> None:
    module = rig.module()
    before = len(rig.sim.commands)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(CancelledByUserError):
        module.enrol(cancel=cancel, on_prompt=Person(rig.sim, "alice"))
    assert Op.GEN_IMG not in rig.sim.commands[before:]


# link faults ---------------------------------------------------------------------------------
def test_one_bad_checksum_is_recovered_by_the_retry(rig: Rig) -> None:
    module = rig.module()
    rig.sim.corrupt_replies = 1
    assert module.template_count() == 0
    assert rig.sim.commands[-2:] == [Op.TEMPLATE_NUM, Op.TEMPLATE_NUM]


def test_persistent_bad_checksums_raise_checksum_error(rig: Rig) -> None:
    module = rig.module()
    rig.sim.corrupt_replies = 2
    with pytest.raises(ChecksumError) as info:
        module.template_count()
    assert info.value.message == "设备应答校验失败（线路干扰），请重试；多次出现请更换数据线"


def test_regmodel_is_not_retried(rig: Rig) -> None:
    module = rig.module()
    rig.sim.corrupt_replies = 1
    with pytest.raises(ChecksumError):
        module.reg_model()
    assert rig.sim.commands.count(Op.REG_MODEL) == 1


def test_fragmented_and_delayed_replies_still_work(rig: Rig) -> None:
    rig.sim.link.fragment_size = 3
    rig.sim.link.fragment_gap = 0.001
    rig.sim.link.reply_delay = 0.03
    module = rig.module()
    assert module.enrol(on_prompt=Person(rig.sim, "alice"), finger_timeout=2).slot == 0
    module.load(1, 0)
    rig.sim.link.fragment_size = 50
    assert module.upload_template(1) == rig.sim.library[0]


def test_a_missing_opcode_times_out_with_a_clear_message(rig: Rig) -> None:
    module = rig.module()
    rig.sim.missing_opcodes = {Op.READ_INDEX_TABLE}
    with pytest.raises(DeviceTimeoutError, match=r"未应答“读取索引表”指令.*不支持") as info:
        module.used_slots()
    assert "0x1F" in str(info.value)
    assert rig.sim.commands.count(Op.READ_INDEX_TABLE) == 2  # retried once, then gave up


def test_search_never_uses_high_speed_search(rig: Rig) -> None:
    rig.sim.missing_opcodes = {Op.HIGH_SPEED_SEARCH}  # as on an R503
    rig.sim.store_finger(5, "alice")
    module = rig.module()
    rig.sim.place_finger("alice")
    module.capture(1, finger_timeout=1)
    assert module.search(1) is not None


def test_unplugged_mid_operation(rig: Rig) -> None:
    module = rig.module()

    def pull_the_cable(prompt: Prompt) -> None:
        rig.sim.unplug()
        time.sleep(0.02)  # let a pty bridge notice, as a real hang-up takes a moment

    with pytest.raises(DisconnectedError, match="设备已断开连接"):
        module.capture(1, finger_timeout=2, on_prompt=pull_the_cable)


# templates -----------------------------------------------------------------------------------
def test_template_upload_download_round_trip(rig: Rig) -> None:
    module = rig.module()
    module.enrol(on_prompt=Person(rig.sim, "alice"), finger_timeout=2)
    module.load(1, 0)
    data = module.upload_template(1)
    assert data == rig.sim.library[0] and len(data) == 512
    module.delete(0)
    module.download_template(2, data)
    module.store(2, 9)
    assert rig.sim.library[9] == data
    rig.sim.place_finger("alice")
    module.capture(1, finger_timeout=1)
    hit = module.search(1)
    assert hit is not None and hit.slot == 9


@pytest.mark.parametrize("packet_code", [0, 1, 3])
def test_download_splits_by_the_module_packet_size(rig: Rig, packet_code: int) -> None:
    rig.sim.packet_size_code = packet_code
    module = rig.module()
    data = make_template("carol", 1)
    module.download_template(1, data)
    module.store(1, 0)
    assert rig.sim.library[0] == data
    module.load(2, 0)
    assert module.upload_template(2) == data


@pytest.mark.parametrize("size", [768, 1024, 1536])
@pytest.mark.parametrize("final", [True, False])
def test_clone_sized_templates_upload_whole(rig: Rig, size: int, final: bool) -> None:
    rig.sim.template_size = size
    rig.sim.send_final_packet = final
    rig.sim.store_finger(0, "alice")
    module = rig.module()
    module.load(1, 0)
    started = time.monotonic()
    assert module.upload_template(1) == rig.sim.library[0]
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("final", [True, False])
def test_a_template_beyond_the_cap_stops_without_hanging(rig: Rig, final: bool) -> None:
    rig.sim.template_size = 1536
    rig.sim.send_final_packet = final
    rig.sim.store_finger(0, "alice")
    module = rig.module(template_cap=1024)
    module.load(1, 0)
    started = time.monotonic()
    with pytest.raises(TemplateTooLargeError, match="超出上限"):
        module.upload_template(1)
    assert time.monotonic() - started < 1.5
    assert module.template_count() == 1  # the leftover packets do not confuse the next command


def test_a_corrupt_data_packet_restarts_the_upload(rig: Rig) -> None:
    rig.sim.store_finger(0, "alice")
    module = rig.module()
    module.load(1, 0)
    rig.sim.corrupt_replies = 2  # the ack of UpChar and the first data packet
    assert module.upload_template(1) == rig.sim.library[0]
    assert rig.sim.commands.count(Op.UP_CHAR) == 2


# library housekeeping ------------------------------------------------------------------------
def test_delete_count_and_empty(rig: Rig) -> None:
    for slot, who in [(0, "a"), (1, "b"), (2, "c"), (260, "d")]:
        rig.sim.store_finger(slot, who)
    module = rig.module()
    assert module.template_count() == 4
    assert module.used_slots() == {0, 1, 2, 260}
    assert module.first_free_slot() == 3
    module.delete(1)
    assert module.first_free_slot() == 1
    module.delete(0, count=3)
    assert module.used_slots() == {260}
    module.empty()
    assert module.template_count() == 0
    with pytest.raises(fp.FingerprintError, match="删除指纹失败"):
        module.delete(299, count=2)


def test_load_of_an_empty_slot_is_reported(rig: Rig) -> None:
    module = rig.module()
    with pytest.raises(fp.FingerprintError, match="模板读取失败或无效") as info:
        module.load(1, 5)
    assert info.value.device_code == 0x0C


def test_security_level(rig: Rig) -> None:
    module = rig.module()
    module.set_security_level(5)
    assert module.parameters is not None and module.parameters.security_level == 5
    with pytest.raises(ValueError):
        module.set_security_level(9)


def test_match_of_the_two_buffers(rig: Rig) -> None:
    module = rig.module()
    rig.sim.place_finger("alice")
    module.capture(1, finger_timeout=1)
    module.capture(2, finger_timeout=1)
    score = module.match()
    assert score is not None and score > 0
    rig.sim.place_finger("bob")
    module.capture(2, finger_timeout=1)
    assert module.match() is None


# notepad and identity ------------------------------------------------------------------------
def test_notepad_round_trip(rig: Rig) -> None:
    module = rig.module()
    module.write_notepad(5, b"hello")
    assert module.read_notepad(5) == b"hello" + bytes(27)


def test_device_id_is_stable_across_reconnects(rig: Rig) -> None:
    first = rig.module()
    ident = first.device_id()
    assert len(ident) == 32 and int(ident, 16) >= 0
    first.close()
    assert rig.module().device_id() == ident
    assert rig.sim.notepad[0].startswith(b"SGSS-FP1")
    other = FingerprintSimulator()
    assert other.notepad[0] != rig.sim.notepad[0]


def test_device_id_does_not_overwrite_foreign_notepad_data(rig: Rig) -> None:
    rig.sim.notepad[0] = b"someone else's data".ljust(32, b"\x00")
    module = rig.module()
    ident = module.device_id()
    assert len(ident) == 32
    assert rig.sim.notepad[0].startswith(b"someone else's data")
    module.close()
    assert rig.module().device_id() == ident


# the simulator on its own, byte by byte --------------------------------------------------------
def exchange(sim: FingerprintSimulator, payload: bytes, *, baud: int = 57600) -> bytes:
    sim.host_write(codec.command(codec.DEFAULT_ADDRESS, payload), baud)
    return sim.host_read(4096, 0.05)


def ack_code(raw: bytes) -> int:
    (packet,) = Deframer().feed(raw)
    return packet.code


def test_simulator_answers_with_the_documented_bytes() -> None:
    sim = FingerprintSimulator()
    assert exchange(sim, codec.vfy_pwd(0)) == bytes.fromhex("EF01FFFFFFFF 07 0003 00 000A")
    assert exchange(sim, codec.gen_img()) == bytes.fromhex("EF01FFFFFFFF 07 0003 02 000C")
    sim.store_finger(1, "alice")
    sim.place_finger("alice")
    assert ack_code(exchange(sim, codec.gen_img())) == 0
    assert ack_code(exchange(sim, codec.img2tz(1))) == 0
    (hit,) = Deframer().feed(exchange(sim, codec.search(1, 0, 163)))
    assert hit.payload[:3] == bytes.fromhex("00 0001")
    params = codec.parse_system_parameters(
        Deframer().feed(exchange(sim, codec.read_sys_para()))[0].payload
    )
    assert params == sim.system_parameters()
    assert params.status & 0x0E == 0x0E  # match found, password verified, image valid


def test_simulator_password_and_address() -> None:
    sim = FingerprintSimulator(password=5)
    assert ack_code(exchange(sim, codec.template_num())) == 0x21
    assert ack_code(exchange(sim, codec.vfy_pwd(1))) == 0x13
    assert ack_code(exchange(sim, codec.vfy_pwd(5))) == 0
    assert ack_code(exchange(sim, codec.template_num())) == 0
    sim.host_write(codec.command(0x12345678, codec.template_num()), 57600)
    assert sim.host_read(4096, 0.02) == b""  # another module's address: silence


def test_simulator_answers_a_corrupt_command_with_01() -> None:
    sim = FingerprintSimulator()
    raw = codec.command(codec.DEFAULT_ADDRESS, codec.template_num())
    sim.host_write(raw[:-1] + bytes([raw[-1] ^ 1]), 57600)
    assert ack_code(sim.host_read(4096, 0.05)) == 0x01


def test_simulator_baud_change_takes_effect_after_a_power_cycle() -> None:
    sim = FingerprintSimulator()
    assert ack_code(exchange(sim, codec.set_sys_para(codec.SysParam.BAUD, 12))) == 0
    assert ack_code(exchange(sim, codec.template_num())) == 0  # still 57600 until power-off
    sim.power_cycle()
    assert Deframer().feed(exchange(sim, codec.template_num())) == []  # garbage at 57600
    assert ack_code(exchange(sim, codec.template_num(), baud=115200)) == 0
    assert ack_code(exchange(sim, codec.set_sys_para(7, 1), baud=115200)) == 0x1A


def test_simulator_auto_presenter_sequence() -> None:
    sim = FingerprintSimulator()
    sim.auto_finger = "robot"
    answers = [ack_code(exchange(sim, codec.gen_img())) for _ in range(7)]
    assert answers == [2, 2, 0, 2, 2, 2, 0]  # away, away, press; lifted; away, away, press


def test_simulator_settle_ignores_bytes_while_booting() -> None:
    sim = FingerprintSimulator(settle=0.05)
    assert exchange(sim, codec.template_num()) == b""
    time.sleep(0.06)
    assert ack_code(exchange(sim, codec.template_num())) == 0


def test_simulator_url_options() -> None:
    sim = FingerprintSimulator()
    sim.store_finger(250, "x")
    sim.configure(
        {
            "finger": "A",
            "library": "200",
            "settle": "0",
            "password": "0x10",
            "template": "1024",
            "final": "0",
            "missing": "1b,1F",
        }
    )
    assert sim.auto_finger == "A" and sim.library_size == 200 and not sim.library
    assert sim.password == 0x10 and sim.template_size == 1024 and not sim.send_final_packet
    assert sim.missing_opcodes == {0x1B, 0x1F}
    with pytest.raises(ValueError, match="unknown fpsim options"):
        sim.configure({"fingre": "A"})
    with pytest.raises(ValueError):
        sim.configure({"library": "5000"})


def test_unknown_url_option_is_refused_when_opening(url_rig: Rig) -> None:
    with pytest.raises(PortNotFoundError, match="unknown fpsim options"):
        FingerprintModule(SerialTransport(url_rig.port + "?bogus=1")).connect()


def test_same_url_name_reaches_the_same_simulator() -> None:
    import drivers.sim.protocol_fpsim  # noqa: F401

    registry.forget("fpsim")
    try:
        module = FingerprintModule(SerialTransport("fpsim://shared?finger=Z"), settle=0)
        module.connect()
        module.close()
        sim = registry.device("fpsim", "shared")
        assert isinstance(sim, FingerprintSimulator) and sim.auto_finger == "Z"
    finally:
        registry.forget("fpsim")
