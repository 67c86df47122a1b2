"""A byte-accurate Evolis card printer on the far end of a simulated serial link.

It parses the host's byte stream incrementally — commands may arrive in any fragments, the ``ESC``
in front of a command is optional after a CR (guide §3), and ``Db``/``Dbc`` bitmap data is binary,
so those two are cut by their declared size, never by looking for CR — and answers the way the
ACK/NACK protocol does: ACK, or NACK + code, and text + terminator for read commands. With
``ack_nack = False`` it answers ``OK`` / ``ERR …`` text instead (the guessed non-ACK dialect, see
codec.py).

Model. The card is taken from the feeder at ``Ss`` (start sequence); ``Sr``/``Sv`` pick the side;
each ``Db``/``Dbc`` inside a sequence prints that panel on the card at once (one ribbon panel
used); ``Se`` ejects the card to the output hopper, ``Ser``/``Seb`` drops it in the reject box.
Every card that left the printer is in ``output`` with the panels actually printed on it and its
``fate`` ("ejected" or "rejected"), so a test can prove no half-printed card was ejected; a card
still inside is ``card``. ``Ss`` with a card already inside answers NACK T (the printer would jam
on it). Outside a sequence a bitmap is only stored (``memory``).

Faults, all safe to set from a test while a driver talks to the simulator:
- ``cover_open`` / ``open_cover()`` / ``close_cover()`` / ``open_cover_after(n)``: card movement
  and printing answer NACK C while the cover is open; reject (``Ser``) still works.
- ``ribbon_panels`` / ``ribbon_out_after(n)``: panels left; at 0 printing answers NACK R, and so
  does ``Ss`` (a job never starts on an empty ribbon). ``ribbon = ""`` means no ribbon.
- ``cards`` / ``empty_feeder()`` / ``empty_feeder_after(n)``: cards in the feeder; ``Ss`` with
  none answers NACK F and takes nothing.
- ``jam_after(n)`` / ``clear_jam()``: card movement and printing answer NACK T (mechanical).
- ``unplug_after(n)`` (or ``unplug()``): the next command is lost and the link fails as a pulled
  USB adapter does. ``silence_after(n)`` (or ``link.silent``): the printer stops answering.
- ``panel_time``: seconds each printed panel delays its ACK (printing takes time).
- ``unsupported``: command names answered NACK 1, as an older model would.
- ``link.fragment_size`` / ``fragment_gap`` / ``reply_delay``: replies in pieces, late.
- ``terminator`` (CR by default, NUL, CR LF) ends text replies; ``terminate_acks`` also puts it
  after ACK/NACK.
- ``error_mode`` (``Pem``): 0 (default) = the printer rejects the card itself after a mid-job
  error; 2 = the host decides (the card waits inside; the driver sets 2 for every job).
- ``after_commands(n, action)`` / ``on_command(name, action, nth)``: run any action before a
  later command, for faults not listed here.

URL options (``evosim://desk?cards=0&terminator=nul``): ``cards``, ``ribbon`` (a ``Pr`` name or
``none``), ``panels``, ``terminator`` (cr, nul, crlf, lf), ``ack`` (1/0), ``cover`` (open,
closed), ``duplex`` (1/0), ``model``, ``firmware``, ``serial``; anything else is a ValueError.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.evolis import codec
from drivers.evolis.panel import DOTS_PER_LINE, LINES, PANEL_BYTES, decompress
from drivers.sim.base import SimulatedDevice

_MAX_COMMAND = 512  # a text command longer than this without CR is garbage
_MAX_COMPRESSED = 2 * PANEL_BYTES
_BITMAP_BYTES = {
    2: PANEL_BYTES,
    32: LINES * DOTS_PER_LINE * 5 // 8,
    64: LINES * DOTS_PER_LINE * 6 // 8,
    128: LINES * DOTS_PER_LINE * 7 // 8,
}


_COUNTER_NAMES = {"c": "CARDS", "r": "REJECTED", "p": "PANELS"}


@dataclass(frozen=True)
class PrintedPanel:
    side: str  # "front" | "back"
    panel: str  # "k", "o", "y", …
    data: bytes  # the panel bytes as printed (decompressed for Dbc)


@dataclass
class OutputCard:
    """One card that went through the printer and what was printed on it."""

    panels: list[PrintedPanel] = field(default_factory=list)
    fate: str = "inside"  # "ejected" (output hopper) | "rejected" (reject box) | "inside"

    def side(self, side: str) -> dict[str, bytes]:
        return {p.panel: p.data for p in self.panels if p.side == side}

    @property
    def front(self) -> dict[str, bytes]:
        return self.side("front")

    @property
    def back(self) -> dict[str, bytes]:
        return self.side("back")


@dataclass(frozen=True)
class _Command:
    name: str
    params: list[str]
    data: bytes | None = None  # bitmap data for Db/Dbc; None if it could not be cut out

    @property
    def label(self) -> str:
        text = ";".join([self.name, *self.params])
        return text if self.data is None else f"{text};<{len(self.data)} bytes>"


@dataclass
class _Trigger:
    name: str | None  # None: count every command
    remaining: int
    action: Callable[[], object]


class _RefusedError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class EvolisSimulator(SimulatedDevice):
    def __init__(
        self,
        *,
        model: str = "Evolis Dualys",
        firmware: str = "DY3 V03.04.01",
        serial_number: str = "DY0123456",
        ribbon: str = "ko",
        ribbon_panels: int = 1000,
        cards: int = 100,
        terminator: bytes = b"\r",
        ack_nack: bool = True,
    ) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.model = model
        self.firmware = firmware
        self.serial_number = serial_number
        self.ribbon = ribbon
        self.ribbon_panels = ribbon_panels
        self.cards = cards
        self.manual_card = False  # a card waiting in the manual slot (Pmi;M)
        self.low_cards = 10  # Sk;w warns at or below this many cards
        self.cover_open = False
        self.jammed = False
        self.need_cleaning = False
        self.duplex = True
        self.panel_time = 0.0
        self.unsupported: set[str] = set()
        self.ack_nack = ack_nack
        self.terminator = terminator
        self.terminate_acks = False
        self.error_mode = 0  # Pem: printer-handled errors until the host asks for 2
        self.com_settings = ["9600", "N", "8", "1", "ACK/NACK" if ack_nack else "NONE", "E"]
        # job state
        self.job_ribbon = ribbon
        self.feeder_mode = "F"
        self.contrast: dict[str, int] = {}
        self.in_sequence = False
        self.current_side = "front"
        self.card: OutputCard | None = None
        self.memory: dict[str, bytes] = {}
        self.last_result = "OK"
        # what happened
        self.output: list[OutputCard] = []
        self.commands: list[str] = []
        self.cards_printed = 0
        self.cards_rejected = 0
        self.panels_printed = 0
        self._buf = bytearray()
        self._resync = False
        self._triggers: list[_Trigger] = []

    # configuration and faults ----------------------------------------------------------------
    def configure(self, options: dict[str, str]) -> None:
        setters: dict[str, Callable[[str], None]] = {
            "cards": lambda v: setattr(self, "cards", _count(v, "cards")),
            "ribbon": self._set_ribbon_option,
            "panels": lambda v: setattr(self, "ribbon_panels", _count(v, "panels")),
            "terminator": lambda v: setattr(self, "terminator", codec.terminator_bytes(v)),
            "ack": lambda v: setattr(self, "ack_nack", _flag(v, "ack")),
            "cover": self._set_cover_option,
            "duplex": lambda v: setattr(self, "duplex", _flag(v, "duplex")),
            "model": lambda v: setattr(self, "model", v),
            "firmware": lambda v: setattr(self, "firmware", v),
            "serial": lambda v: setattr(self, "serial_number", v),
        }
        unknown = sorted(set(options) - set(setters))
        if unknown:
            raise ValueError(f"unknown evosim options: {unknown} (known: {sorted(setters)})")
        with self._lock:
            for key, value in options.items():
                setters[key](value)

    def _set_ribbon_option(self, value: str) -> None:
        value = value.lower()
        if value == "none":
            self.ribbon = ""
            return
        if value not in codec.RIBBONS:
            raise ValueError(f"ribbon must be one of {codec.RIBBONS} or none, got {value!r}")
        self.ribbon = value

    def _set_cover_option(self, value: str) -> None:
        if value not in ("open", "closed"):
            raise ValueError(f"cover must be open or closed, got {value!r}")
        self.cover_open = value == "open"

    def after_commands(self, n: int, action: Callable[[], object]) -> None:
        """Run ``action`` once ``n`` more commands have been answered (before the next one)."""
        with self._lock:
            self._triggers.append(_Trigger(None, n, action))

    def on_command(self, name: str, action: Callable[[], object], nth: int = 1) -> None:
        """Run ``action`` just before the ``nth`` next command called ``name`` is executed."""
        with self._lock:
            self._triggers.append(_Trigger(name, nth, action))

    def open_cover(self) -> None:
        self.cover_open = True

    def close_cover(self) -> None:
        self.cover_open = False

    def open_cover_after(self, n: int) -> None:
        self.after_commands(n, self.open_cover)

    def ribbon_out_after(self, panels: int) -> None:
        self.ribbon_panels = panels

    def empty_feeder(self) -> None:
        self.cards = 0

    def empty_feeder_after(self, n: int) -> None:
        self.after_commands(n, self.empty_feeder)

    def load_cards(self, count: int) -> None:
        self.cards += count

    def jam_after(self, n: int) -> None:
        self.after_commands(n, lambda: setattr(self, "jammed", True))

    def clear_jam(self) -> None:
        self.jammed = False

    def unplug_after(self, n: int) -> None:
        self.after_commands(n, self.unplug)

    def silence_after(self, n: int) -> None:
        self.after_commands(n, lambda: setattr(self.link, "silent", True))

    def ejected(self) -> list[OutputCard]:
        return [c for c in self.output if c.fate == "ejected"]

    def rejected(self) -> list[OutputCard]:
        return [c for c in self.output if c.fate == "rejected"]

    # the byte stream -------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
            while not self.unplugged:
                command = self._next_command()
                if command is None:
                    break
                self._handle(command)
            if self.unplugged:
                self._buf.clear()

    def _next_command(self) -> _Command | None:
        buf = self._buf
        if self._resync:  # after a bitmap whose size could not be known: wait for the next ESC
            at = buf.find(codec.ESC)
            if at < 0:
                buf.clear()
                return None
            del buf[:at]
            self._resync = False
        skip = 0
        while skip < len(buf) and buf[skip] in codec.TERMINATORS:
            skip += 1
        del buf[:skip]
        if not buf:
            return None
        start = 1 if buf[0] == codec.ESC else 0
        cr = buf.find(codec.CR, start)
        semi = buf.find(b";", start)
        if semi >= 0 and (cr < 0 or semi < cr):
            name = buf[start:semi].decode("ascii", "replace")
            if name in ("Db", "Dbc"):
                return self._next_bitmap(name, semi)
        if cr < 0:
            if len(buf) > _MAX_COMMAND:
                buf.clear()
                return _Command("?", [])
            return None
        text = buf[start:cr].decode("ascii", "replace")
        del buf[: cr + 1]
        name, *params = text.split(";")
        return _Command(name, params)

    def _next_bitmap(self, name: str, semi: int) -> _Command | None:
        """``Db;panel;levels;DATA CR`` / ``Dbc;panel;levels;first;nbytes;DATA CR``."""
        buf = self._buf
        wanted = 2 if name == "Db" else 4
        fields: list[str] = []
        pos = semi
        while len(fields) < wanted:
            nxt = buf.find(b";", pos + 1)
            cr = buf.find(codec.CR, pos + 1)
            if cr >= 0 and (nxt < 0 or cr < nxt):  # header ended early: parameters missing
                fields.append(buf[pos + 1 : cr].decode("ascii", "replace"))
                del buf[: cr + 1]
                return _Command(name, fields)
            if nxt < 0:
                if len(buf) - pos > 64:
                    del buf[:]
                    return _Command(name, fields)
                return None
            fields.append(buf[pos + 1 : nxt].decode("ascii", "replace"))
            pos = nxt
        data_start = pos + 1
        size = _data_size(name, fields)
        if size is None:
            del buf[:data_start]
            self._resync = True
            return _Command(name, fields)
        end = data_start + size
        if len(buf) <= end:  # wait for the data and the CR that ends the command
            return None
        data = bytes(buf[data_start:end])
        del buf[: end + 1 if buf[end] == codec.CR else end]
        return _Command(name, fields, data)

    # answers ---------------------------------------------------------------------------------
    def _ack(self, delay: float = 0.0) -> None:
        if not self.ack_nack:
            self.emit(b"OK" + self.terminator, delay=delay)
            return
        tail = self.terminator if self.terminate_acks else b""
        self.emit(bytes([codec.ACK]) + tail, delay=delay)

    def _nack(self, code: str) -> None:
        if not self.ack_nack:
            self.emit(codec.text_error_reply(code).encode("ascii") + self.terminator)
            return
        tail = self.terminator if self.terminate_acks else b""
        self.emit(bytes([codec.NACK]) + code.encode("ascii") + tail)

    def _text(self, text: str) -> None:
        self.emit(text.encode("ascii", "replace") + self.terminator)

    def _run_triggers(self, name: str) -> None:
        due = []
        for trigger in list(self._triggers):
            if trigger.name is None:
                if trigger.remaining > 0:
                    trigger.remaining -= 1
                    continue
            else:
                if trigger.name != name:
                    continue
                trigger.remaining -= 1
                if trigger.remaining > 0:
                    continue
            self._triggers.remove(trigger)
            due.append(trigger.action)
        for action in due:
            action()

    def _handle(self, command: _Command) -> None:
        self.commands.append(command.label)
        self._run_triggers(command.name)
        if self.unplugged or self.link.silent:
            return
        handler = self._handlers().get(command.name)
        if handler is None or command.name in self.unsupported:
            self._nack("1")
            return
        try:
            answer = handler(command)
        except _RefusedError as refused:
            mid_job = self.card is not None and refused.code in ("C", "R", "T", "F")
            if mid_job and self.error_mode == 0:  # the printer handles it: card to the reject box
                self._drop_card("rejected")
            self._nack(refused.code)
            return
        if answer is None:
            self._ack()
        elif isinstance(answer, float):
            self._ack(delay=answer)
        else:
            self._text(answer)

    def _handlers(self) -> dict[str, Callable[[_Command], str | float | None]]:
        return {
            "Pr": self._pr,
            "Pmi": self._pmi,
            "Pc": self._pc,
            "Pem": self._pem,
            "Pcom": self._pcom,
            "Rcom": lambda c: ";".join(self.com_settings),
            "Ss": self._ss,
            "Sr": lambda c: self._side("front"),
            "Sv": lambda c: self._side("back"),
            "Db": self._bitmap,
            "Dbc": self._bitmap,
            "Se": self._se,
            "Ser": self._ser,
            "Seb": self._ser,
            "Si": self._si,
            "Sis": self._station,
            "Sic": self._station,
            "Mc": self._mc,
            "Srs": self._srs,
            "Rfv": lambda c: self.firmware,
            "Rsn": lambda c: self.serial_number,
            "Rtp": lambda c: self.model,
            "Rr": lambda c: self.ribbon.upper() if self.ribbon else "NONE",
            "Rcr": lambda c: "OK" if self.ribbon and self.ribbon_panels > 0 else "END",
            "Rco": self._rco,
            "Rlr": self._rlr,
            "Sk": self._sk,
        }

    # commands --------------------------------------------------------------------------------
    @staticmethod
    def _param(command: _Command, index: int, allowed: tuple[str, ...] | None = None) -> str:
        if index >= len(command.params):
            raise _RefusedError("2")
        value = command.params[index]
        if allowed is not None and value not in allowed:
            raise _RefusedError("2")
        return value

    @staticmethod
    def _int(command: _Command, index: int, low: int, high: int) -> int:
        if index >= len(command.params):
            raise _RefusedError("2")
        try:
            value = int(command.params[index])
        except ValueError:
            raise _RefusedError("2") from None
        if not low <= value <= high:
            raise _RefusedError("2")
        return value

    def _ready(self) -> None:
        """Moving or printing a card needs a closed cover and a free mechanism."""
        if self.cover_open:
            raise _RefusedError("C")
        if self.jammed:
            raise _RefusedError("T")

    def _need_card(self) -> OutputCard:
        if self.card is None:
            raise _RefusedError("1")
        return self.card

    def _pr(self, command: _Command) -> None:
        ribbon = self._param(command, 0, codec.RIBBONS)
        if ribbon != self.ribbon:
            raise _RefusedError("R")
        self.job_ribbon = ribbon

    def _pmi(self, command: _Command) -> None:
        self.feeder_mode = self._param(command, 0, codec.FEEDERS)

    def _pc(self, command: _Command) -> None:
        panel = self._param(command, 0, codec.PANELS)
        op = self._param(command, 1, ("=", "+", "-"))
        value = self._int(command, 2, 0, 20)
        current = self.contrast.get(panel, 10)
        self.contrast[panel] = {"=": value, "+": current + value, "-": current - value}[op]

    def _pem(self, command: _Command) -> None:
        self.error_mode = self._int(command, 0, 0, 2)

    def _pcom(self, command: _Command) -> None:
        self._int(command, 0, 1, 2)
        baud = self._int(command, 1, 2400, 115200)
        params = command.params + [""] * 7
        flow = params[5] or "NONE"
        if flow not in (*codec.FLOW_CONTROLS, "0"):
            raise _RefusedError("2")
        self.com_settings = [str(baud), params[2] or "N", params[3] or "8", params[4] or "1"]
        self.com_settings += [flow, params[6] or "E"]
        # the answer to Pcom itself still uses the old protocol; the new one applies after it
        self.after_commands(0, lambda: setattr(self, "ack_nack", flow == "ACK/NACK"))

    def _take_card(self) -> None:
        if self.card is not None:
            raise _RefusedError("T")  # a card is already inside: the next one would jam on it
        mode = self.feeder_mode
        if mode in ("F", "B") and self.cards > 0:
            self.cards -= 1
        elif mode in ("M", "B") and self.manual_card:
            self.manual_card = False
        else:
            self.last_result = "NO CARD"
            raise _RefusedError("F")
        self.card = OutputCard()

    def _ss(self, command: _Command) -> None:
        self._ready()
        if not self.ribbon or self.ribbon_panels <= 0:
            raise _RefusedError("R")
        self._take_card()
        self.in_sequence = True
        self.current_side = "front"

    def _side(self, side: str) -> None:
        self._need_card()
        self._ready()
        if side == "back" and not self.duplex:
            raise _RefusedError("1")
        self.current_side = side

    def _bitmap(self, command: _Command) -> float | None:
        if command.data is None:
            raise _RefusedError("2")
        panel = self._param(command, 0, codec.PANELS)
        levels = self._int(command, 1, 2, 128)
        if (panel in "ko") != (levels == 2):
            raise _RefusedError("2")
        data = command.data
        if command.name == "Dbc":
            if levels != 2:
                raise _RefusedError("2")  # YMC compression is not simulated
            first = self._int(command, 2, 0, LINES - 1)
            try:
                data = decompress(data, first_line=first)
            except ValueError:
                raise _RefusedError("2") from None
        if not (self.in_sequence and self.card is not None):
            self.memory[panel] = data
            return None
        self._ready()
        if panel not in self.ribbon:
            raise _RefusedError("R")
        if self.ribbon_panels <= 0:
            raise _RefusedError("R")
        self.ribbon_panels -= 1
        self.panels_printed += 1
        self.card.panels.append(PrintedPanel(self.current_side, panel, data))
        return self.panel_time

    def _drop_card(self, fate: str) -> None:
        card, self.card = self.card, None
        self.in_sequence = False
        if card is None:
            return
        card.fate = fate
        self.output.append(card)
        if fate == "ejected":
            self.cards_printed += 1
            self.last_result = "OK"
        else:
            self.cards_rejected += 1
            self.last_result = "ERR CARD"

    def _se(self, command: _Command) -> None:
        if self.card is None:
            self.in_sequence = False
            return
        self._ready()
        self._drop_card("ejected")

    def _ser(self, command: _Command) -> None:
        self._drop_card("rejected")

    def _si(self, command: _Command) -> None:
        self._ready()
        self._take_card()

    def _station(self, command: _Command) -> None:
        self._need_card()
        self._ready()

    def _mc(self, command: _Command) -> None:
        self._param(command, 0, ("+", "-"))
        self._int(command, 1, 0, 10000)
        self._need_card()
        self._ready()

    def _srs(self, command: _Command) -> None:
        self.in_sequence = False
        self.current_side = "front"

    def _rco(self, command: _Command) -> str:
        values = {"c": self.cards_printed, "r": self.cards_rejected, "p": self.panels_printed}
        if command.params:
            return str(values[self._param(command, 0, tuple(values))])
        return ";".join(f"{name}={values[key]}" for key, name in _COUNTER_NAMES.items())

    def _rlr(self, command: _Command) -> str:
        which = self._param(command, 0, ("p", "r"))
        if which == "p":
            return self.last_result
        return "ERR NEED CLEANING" if self.need_cleaning else "OK"

    def _sk(self, command: _Command) -> str:
        sensor = self._param(command, 0, ("f", "w", "s"))
        if sensor == "f":
            return "0" if self.cards > 0 else "1"
        if sensor == "w":
            return "1" if self.cards <= self.low_cards else "0"
        return "OK"


def _data_size(name: str, fields: list[str]) -> int | None:
    """How many data bytes follow the header, or None when the header does not say."""
    try:
        if name == "Db":
            return _BITMAP_BYTES.get(int(fields[1]))
        size = int(fields[3])
    except (ValueError, IndexError):
        return None
    return size if 0 <= size <= _MAX_COMPRESSED else None


def _count(value: str, what: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{what} must be a whole number, got {value!r}") from None
    if number < 0:
        raise ValueError(f"{what} must not be negative")
    return number


def _flag(value: str, what: str) -> bool:
    low = value.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{what} must be 1 or 0, got {value!r}")
