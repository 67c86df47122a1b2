"""EvolisPrinter against the simulator, in-process (evosim:// URL) and over a real pty pair.

The promise under test: an interrupted job never leaves a half-printed card in the output
hopper, the clerk's message says where the card went, and reprinting after the fix gives exactly
one complete card.
"""

import dataclasses
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from drivers.errors import CancelledByUserError, DeviceTimeoutError, DisconnectedError
from drivers.evolis import codec
from drivers.evolis.device import (
    EvolisPrinter,
    PrinterReportedError,
    PrintInterruptedError,
    Timeouts,
)
from drivers.evolis.panel import PANEL_BYTES, Panel
from drivers.evolis.simulator import EvolisSimulator
from drivers.evolis.test_card import build_test_card
from drivers.sim import registry
from drivers.sim.base import SimulatedDevice
from drivers.transport import SerialTransport, deadline_in

FAST = Timeouts.uniform(2.0)  # answers are immediate; this only bounds a broken test
SHORT = dataclasses.replace(Timeouts.uniform(0.3), line_margin=0.0)  # for silence tests

CARD = build_test_card()
FULL = Panel.full().to_bytes()


@dataclass
class Rig:
    kind: str
    sim: EvolisSimulator
    printer: EvolisPrinter


def connect(kind: str, sim: SimulatedDevice) -> tuple[SerialTransport, object]:
    if kind == "url":
        name = f"t-{uuid.uuid4().hex[:10]}"
        registry.install("evosim", name, sim)
        return SerialTransport(f"evosim://{name}", 9600), None
    if os.name != "posix":
        pytest.skip("pty pairs need a POSIX system")
    from drivers.sim.pty_bridge import PtyBridge

    bridge = PtyBridge(sim).start()
    return SerialTransport(bridge.port, 9600), bridge


@pytest.fixture(params=["url", "pty"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    sim = EvolisSimulator()
    transport, bridge = connect(request.param, sim)
    printer = EvolisPrinter(transport, timeouts=FAST)
    printer.open()
    yield Rig(request.param, sim, printer)
    printer.close()
    if bridge is not None:
        bridge.stop()  # type: ignore[attr-defined]


@pytest.fixture
def url_rig() -> Iterator[Rig]:
    sim = EvolisSimulator()
    transport, _ = connect("url", sim)
    printer = EvolisPrinter(transport, timeouts=FAST)
    yield Rig("url", sim, printer)
    printer.close()


def assert_complete(card, front_k: Panel = CARD) -> None:
    assert card.fate == "ejected"
    assert card.front == {"k": front_k.to_bytes(), "o": FULL}
    assert card.back == {}


# status --------------------------------------------------------------------------------------
@pytest.mark.parametrize("terminator", [b"\r", b"\x00", b"\r\n"])
def test_status(rig: Rig, terminator: bytes) -> None:
    rig.sim.terminator = terminator
    rig.sim.cards = 5
    status = rig.printer.status()
    assert status.model == "Evolis Dualys"
    assert status.firmware == "DY3 V03.04.01"
    assert status.serial_number == "DY0123456"
    assert (status.ribbon_type, status.ribbon_reply, status.ribbon_ok) == ("ko", "KO", True)
    assert status.counters == {"cards": 0, "rejected": 0, "panels": 0}
    assert status.cards_printed == 0
    assert (status.feeder_empty, status.feeder_low) == (False, True)
    assert (status.last_print, status.needs_cleaning, status.cover_open) == ("OK", False, None)
    assert ("model", "Evolis Dualys") in status.lines()


def test_status_of_an_empty_printer_and_unknown_commands(url_rig: Rig) -> None:
    sim = url_rig.sim
    sim.cards, sim.ribbon_panels, sim.need_cleaning = 0, 0, True
    sim.unsupported = {"Rco", "Rsn"}
    status = url_rig.printer.status()
    assert status.feeder_empty is True and status.ribbon_ok is False
    assert status.needs_cleaning is True
    assert status.serial_number is None and status.counters == {}
    assert ("serial", "未知") in status.lines()


# a full card ---------------------------------------------------------------------------------
def test_full_card(rig: Rig) -> None:
    steps: list[tuple[str, float]] = []
    rig.printer.print_card(CARD, on_progress=lambda label, f: steps.append((label, f)))
    assert len(rig.sim.output) == 1
    assert_complete(rig.sim.output[0])
    assert rig.sim.cards == 99 and rig.sim.ribbon_panels == 998
    assert rig.sim.commands[:6] == ["Pem;2", "Rr", "Pr;ko", "Pmi;F", "Ss", "Sr"]
    assert rig.sim.commands[-1] == "Se"
    assert rig.sim.commands[6].startswith("Dbc;k;2;0;")
    assert rig.printer.card_may_be_inside is False
    assert steps[0] == ("准备打印", 0.0) and steps[-1] == ("完成", 1.0)
    assert [f for _, f in steps] == sorted(f for _, f in steps)


def test_uncompressed_duplex_with_a_shaped_overlay(url_rig: Rig) -> None:
    url_rig.printer.compress = False
    back = Panel.blank().set_rect(0, 0, 100, 100)
    varnish = Panel.full().clear_rect(300, 500, 200, 200)  # e.g. keep a signature area bare
    url_rig.printer.print_card(CARD, overlay=varnish, back_k=back, feeder="B")
    (card,) = url_rig.sim.output
    assert card.fate == "ejected"
    assert card.front == {"k": CARD.to_bytes(), "o": varnish.to_bytes()}
    assert card.back == {"k": back.to_bytes(), "o": varnish.to_bytes()}
    assert [c.split(";")[0] for c in url_rig.sim.commands[4:]] == [
        "Ss", "Sr", "Db", "Db", "Sv", "Db", "Db", "Se",
    ]  # fmt: skip
    assert f"Db;k;2;<{PANEL_BYTES} bytes>" in url_rig.sim.commands


def test_no_overlay_on_a_black_only_ribbon(url_rig: Rig) -> None:
    url_rig.sim.ribbon = "k"
    with pytest.raises(PrinterReportedError, match="不含保护层") as caught:
        url_rig.printer.print_card(CARD)
    assert caught.value.reason == "RIBBON_ERROR"
    assert "Ss" not in url_rig.sim.commands and url_rig.sim.cards == 100
    url_rig.printer.print_card(CARD, overlay=False)
    (card,) = url_rig.sim.output
    assert card.front == {"k": CARD.to_bytes()}
    assert "Pr;k" in url_rig.sim.commands


# interrupted jobs ----------------------------------------------------------------------------
def test_cover_opened_mid_job_rejects_the_card_and_a_retry_prints_one_whole_card(rig: Rig) -> None:
    sim = rig.sim
    sim.on_command("Dbc", sim.open_cover, nth=2)  # opened after K, before the overlay
    with pytest.raises(PrintInterruptedError) as caught:
        rig.printer.print_card(CARD)
    err = caught.value
    assert err.message == "卡片打印机上盖被打开，未完成的卡片已退入废卡盒；请合上上盖后重新打印"
    assert (err.reason, err.device_code, err.rejected, err.code) == (
        "COVER_OPEN", "C", True, "PRINT_INTERRUPTED",
    )  # fmt: skip
    assert sim.ejected() == []
    (half,) = sim.rejected()
    assert half.front == {"k": CARD.to_bytes()}  # the half card really is in the reject box
    assert sim.card is None and sim.commands[-1] == "Ser"

    with pytest.raises(PrinterReportedError) as still_open:  # retry before closing: no card
        rig.printer.print_card(CARD)
    assert not isinstance(still_open.value, PrintInterruptedError)
    assert still_open.value.message == "卡片打印机上盖未关闭，请合上上盖"
    assert sim.cards == 99

    sim.close_cover()
    rig.printer.print_card(CARD)
    assert [c.fate for c in sim.output] == ["rejected", "ejected"]
    assert_complete(sim.output[1])
    assert (sim.cards_printed, sim.cards_rejected, sim.cards) == (1, 1, 98)


def test_ribbon_runs_out_mid_job(rig: Rig) -> None:
    rig.sim.ribbon_out_after(1)
    with pytest.raises(PrintInterruptedError) as caught:
        rig.printer.print_card(CARD)
    assert caught.value.message == (
        "色带用完或未安装，未完成的卡片已退入废卡盒；请更换色带后重新打印"
    )
    assert caught.value.reason == "RIBBON_ERROR"
    assert rig.sim.ejected() == [] and len(rig.sim.rejected()) == 1
    assert rig.printer.status().ribbon_ok is False


def test_feeder_empty_before_start_consumes_no_card(rig: Rig) -> None:
    rig.sim.empty_feeder()
    with pytest.raises(PrinterReportedError) as caught:
        rig.printer.print_card(CARD)
    err = caught.value
    assert not isinstance(err, PrintInterruptedError)
    assert (err.message, err.reason) == ("进卡器无卡，请放入空白卡", "FEEDER_ERROR")
    assert rig.sim.output == [] and rig.sim.card is None and rig.sim.ribbon_panels == 1000
    assert "Sr" not in rig.sim.commands and "Ser" not in rig.sim.commands
    assert rig.printer.card_may_be_inside is False
    assert rig.printer.status().last_print == "NO CARD"
    rig.sim.load_cards(1)
    rig.printer.print_card(CARD)
    assert_complete(rig.sim.output[0])


def test_feeder_emptied_mid_job_finishes_this_card_and_stops_the_next(url_rig: Rig) -> None:
    url_rig.sim.empty_feeder_after(6)  # during the card: it is already out of the feeder
    url_rig.printer.print_card(CARD)
    assert_complete(url_rig.sim.output[0])
    with pytest.raises(PrinterReportedError, match="进卡器无卡"):
        url_rig.printer.print_card(CARD)
    assert len(url_rig.sim.output) == 1


def test_jam_mid_job(url_rig: Rig) -> None:
    url_rig.sim.on_command("Dbc", lambda: url_rig.sim.jam_after(0))
    with pytest.raises(PrintInterruptedError) as caught:
        url_rig.printer.print_card(CARD)
    assert caught.value.reason == "MECHANICAL_ERROR"
    assert caught.value.message.startswith("卡片打印机机械故障或动作超时，未完成的卡片已退入废卡盒")
    assert url_rig.sim.ejected() == []


def test_printer_that_handles_errors_itself(url_rig: Rig) -> None:
    """Without ``Pem`` (NACK 1) the printer rejects the card itself; the driver's own reject
    finds nothing left and the card is counted once."""
    sim = url_rig.sim
    sim.unsupported = {"Pem"}
    sim.on_command("Dbc", sim.open_cover, nth=2)
    with pytest.raises(PrintInterruptedError, match="已退入废卡盒"):
        url_rig.printer.print_card(CARD)
    assert [c.fate for c in sim.output] == ["rejected"] and sim.cards_rejected == 1


def test_cancel_mid_job_rejects_the_card(url_rig: Rig) -> None:
    seen: list[str] = []
    with pytest.raises(CancelledByUserError, match="已退入废卡盒"):
        url_rig.printer.print_card(
            CARD,
            cancel=lambda: "打印正面保护层" in seen,
            on_progress=lambda label, f: seen.append(label),
        )
    assert url_rig.sim.ejected() == [] and len(url_rig.sim.rejected()) == 1


def test_cancel_before_start_touches_nothing(url_rig: Rig) -> None:
    with pytest.raises(CancelledByUserError):
        url_rig.printer.print_card(CARD, cancel=lambda: True)
    assert url_rig.sim.commands == []


# the link ------------------------------------------------------------------------------------
def test_fragmented_and_delayed_replies(rig: Rig) -> None:
    sim = rig.sim
    sim.terminator, sim.terminate_acks = b"\r\n", True
    sim.link.fragment_size, sim.link.fragment_gap, sim.link.reply_delay = 1, 0.002, 0.01
    assert rig.printer.status().model == "Evolis Dualys"
    rig.printer.print_card(CARD)
    assert_complete(sim.output[0])


def test_silent_printer_times_out(rig: Rig) -> None:
    rig.sim.link.silent = True
    rig.printer.timeouts = SHORT
    started = time.monotonic()
    with pytest.raises(DeviceTimeoutError, match="卡片打印机无响应"):
        rig.printer.status()
    assert time.monotonic() - started < 1.5


def test_printer_falls_silent_mid_job(url_rig: Rig) -> None:
    sim, printer = url_rig.sim, url_rig.printer
    printer.timeouts = SHORT
    sim.on_command("Dbc", lambda: setattr(sim.link, "silent", True))
    with pytest.raises(DeviceTimeoutError) as caught:
        printer.print_card(CARD)
    assert "未完成的卡片可能仍在打印机内" in caught.value.message
    assert sim.ejected() == [] and sim.card is not None  # stuck inside, not in the hopper
    assert printer.card_may_be_inside is True

    sim.link.silent = False
    printer.print_card(CARD)  # first rejects the stuck card, then prints a whole new one
    assert [c.fate for c in sim.output] == ["rejected", "ejected"]
    assert sim.output[0].front == {}
    assert_complete(sim.output[1])


def test_unplugged_mid_job(rig: Rig) -> None:
    sim = rig.sim
    sim.on_command("Dbc", sim.unplug, nth=2)
    with pytest.raises(DisconnectedError) as caught:
        rig.printer.print_card(CARD)
    assert "断开连接" in caught.value.message and "重新打印" in caught.value.message
    assert sim.ejected() == [] and sim.output == []
    assert sim.card is not None and sim.card.front == {"k": CARD.to_bytes()}
    assert rig.printer.card_may_be_inside is True


def test_replugged_after_unplug_the_stuck_card_is_rejected_first(url_rig: Rig) -> None:
    sim = url_rig.sim
    sim.unplug_after(7)  # Pem Rr Pr Pmi Ss Sr Dbc(k) answered, the overlay is lost
    with pytest.raises(DisconnectedError):
        url_rig.printer.print_card(CARD)
    assert sim.output == []
    sim.replug()
    url_rig.printer.print_card(CARD)
    assert [c.fate for c in sim.output] == ["rejected", "ejected"]
    assert sim.output[0].front == {"k": CARD.to_bytes()}
    assert_complete(sim.output[1])


def test_a_fresh_driver_on_a_printer_with_a_stuck_card_takes_no_new_card(url_rig: Rig) -> None:
    sim = url_rig.sim
    sim.unplug_after(7)
    with pytest.raises(DisconnectedError):
        url_rig.printer.print_card(CARD)
    sim.replug()
    assert sim.error_mode == 2  # set by the driver: the printer leaves the card to the host
    fresh = EvolisPrinter(url_rig.printer.transport, timeouts=FAST)  # e.g. the app restarted
    with pytest.raises(PrinterReportedError) as caught:
        fresh.print_card(CARD)
    assert caught.value.reason == "MECHANICAL_ERROR" and "取出卡住的卡片" in caught.value.message
    assert sim.ejected() == []
    fresh.reject()
    fresh.print_card(CARD)
    assert [c.fate for c in sim.output] == ["rejected", "ejected"]


# NACK 1 / 2 and the text dialect -------------------------------------------------------------
def test_command_and_parameter_errors(rig: Rig) -> None:
    with pytest.raises(PrinterReportedError) as unknown:
        rig.printer.command("Xyz")
    assert (unknown.value.device_code, unknown.value.reason) == ("1", "COMMAND_ERROR")
    assert unknown.value.message == codec.nack_info("1").message
    with pytest.raises(PrinterReportedError) as bad:
        rig.printer.command("Pmi", "X")
    assert (bad.value.device_code, bad.value.reason) == ("2", "PARAMETER_ERROR")
    assert rig.printer.command("Rtp") == "Evolis Dualys"
    assert rig.printer.command("Pc", "k", "=", 12) == ""
    assert rig.sim.contrast == {"k": 12}


def test_wrong_ribbon_parameter_stops_before_the_card(url_rig: Rig) -> None:
    with pytest.raises(PrinterReportedError) as caught:
        url_rig.printer.print_card(CARD, ribbon="ymcko")
    assert caught.value.reason == "RIBBON_ERROR" and not isinstance(
        caught.value, PrintInterruptedError
    )
    assert url_rig.sim.cards == 100 and url_rig.sim.output == []


def test_text_dialect_without_ack_nack(url_rig: Rig) -> None:
    sim = url_rig.sim
    sim.ack_nack = False
    printer = EvolisPrinter(url_rig.printer.transport, ack_nack=False, timeouts=FAST)
    assert printer.status().model == "Evolis Dualys"
    printer.print_card(CARD)
    assert_complete(sim.output[0])
    sim.on_command("Dbc", sim.open_cover, nth=2)
    with pytest.raises(PrintInterruptedError) as caught:
        printer.print_card(CARD)
    assert caught.value.reason == "COVER_OPEN"
    assert [c.fate for c in sim.output] == ["ejected", "rejected"]


def test_eject_reject_reset(url_rig: Rig) -> None:
    printer, sim = url_rig.printer, url_rig.sim
    printer.command("Si", timeout=1)
    printer.eject()
    printer.command("Si", timeout=1)
    printer.reject()
    printer.reset()
    assert [c.fate for c in sim.output] == ["ejected", "rejected"]
    assert sim.commands == ["Si", "Se", "Si", "Ser", "Srs"]


# timing and chunking, with a transport that only records ------------------------------------
class AckingTransport:
    """Answers every command with ACK at once and records write sizes and read deadlines."""

    url = "fake://"

    def __init__(self, baudrate: int) -> None:
        self.baudrate = baudrate
        self.is_open = True
        self.writes: list[int] = []
        self.budgets: list[float] = []
        self._pending = b""

    def open(self) -> None: ...
    def close(self) -> None: ...
    def flush_input(self) -> None: ...

    def write(self, data: bytes) -> None:
        self.writes.append(len(data))
        if data.endswith(b"\r"):
            self._pending = b"KO\r" if data == b"\x1bRr\r" else b"\x06"

    def read_available(self, deadline: float) -> bytes:
        self.budgets.append(deadline - time.monotonic())
        out, self._pending = self._pending, b""
        return out


@pytest.mark.parametrize("baud", [9600, 115200])
def test_bitmap_budget_scales_with_baud_and_writes_are_chunked(baud: int) -> None:
    transport = AckingTransport(baud)
    printer = EvolisPrinter(transport, compress=False)
    printer.print_card(CARD, overlay=False)
    frame = len(codec.download_bitmap("k", CARD.to_bytes()))
    wire = frame * 10 / baud * 1.5
    assert max(transport.budgets) == pytest.approx(printer.timeouts.panel + wire, abs=0.5)
    assert max(transport.writes) == baud // 20
    assert sum(transport.writes) > PANEL_BYTES


# the simulator's own parsing -----------------------------------------------------------------
def drain(sim: EvolisSimulator) -> bytes:
    out = b""
    end = deadline_in(0.2)
    while time.monotonic() < end:
        chunk = sim.host_read(4096, 0.02)
        if not chunk and out:
            break
        out += chunk
    return out


def test_simulator_parses_fragments_and_binary_data() -> None:
    sim = EvolisSimulator()
    data = bytes(range(256)) * 321 + bytes(PANEL_BYTES - 256 * 321)  # CR, ESC and ';' inside
    stream = codec.download_bitmap("k", data) + b"Rtp\r" + codec.encode("Pr", "ko")
    for i in range(0, len(stream), 997):
        sim.host_write(stream[i : i + 997])
    assert drain(sim) == b"\x06Evolis Dualys\r\x06"  # the ESC after a CR is optional
    assert sim.memory["k"] == data
    assert sim.commands == [f"Db;k;2;<{PANEL_BYTES} bytes>", "Rtp", "Pr;ko"]


def test_simulator_refuses_bad_bitmaps_and_resynchronises() -> None:
    sim = EvolisSimulator()
    sim.host_write(codec.encode("Dbc", "k", 2, 0, 2, b"\x52\x00"))  # count 82 > 81
    sim.host_write(b"\x1bDb;k;3;\x01\x02\x03\r" + codec.read_model())  # unknown size
    sim.host_write(b"\x1bDb;k\r\x1bXx\r")
    assert drain(sim) == b"\x152\x152Evolis Dualys\r\x152\x151"


def test_simulator_protocol_switch_with_pcom() -> None:
    sim = EvolisSimulator()
    sim.host_write(codec.serial_config(flow="NONE") + codec.encode("Pmi", "X") + codec.reset())
    assert drain(sim) == b"\x06ERR PARAM\rOK\r"
    sim.host_write(codec.read_serial_config())
    assert drain(sim) == b"9600;N;8;1;NONE;E\r"


def test_simulator_url_options() -> None:
    name = f"opt-{uuid.uuid4().hex[:8]}"
    transport = SerialTransport(f"evosim://{name}?cards=3&terminator=nul&ribbon=ymcko&cover=open")
    printer = EvolisPrinter(transport, timeouts=FAST)
    status = printer.status()
    sim = registry.device("evosim", name)
    assert isinstance(sim, EvolisSimulator)
    assert (sim.cards, sim.terminator, sim.cover_open) == (3, b"\x00", True)
    assert status.ribbon_type == "ymcko"
    printer.close()
    with pytest.raises(ValueError, match="unknown evosim options"):
        sim.configure({"color": "red"})
    with pytest.raises(ValueError):
        sim.configure({"cards": "many"})


def test_fault_knobs_counted_in_commands() -> None:
    sim = EvolisSimulator()
    sim.open_cover_after(1)
    sim.silence_after(3)
    sim.host_write(codec.read_model() + codec.start_sequence() + codec.reject_card())
    sim.host_write(codec.read_model())  # the 4th command: silent from here on
    assert drain(sim) == b"Evolis Dualys\r\x15C\x06"
    assert sim.cover_open and sim.link.silent and sim.cards == 100
    sim.link.silent = False
    sim.close_cover()
    sim.jam_after(1)
    sim.host_write(codec.start_sequence() + codec.front_side() + codec.reject_card())
    assert drain(sim) == b"\x06\x15T\x06"
    assert [c.fate for c in sim.output] == ["rejected"] and sim.cards == 99
