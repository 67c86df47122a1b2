"""Which physical module this is: the identity the server files templates under.

The server keeps "template in slot S of module D belongs to person P" and answers a library hit
by looking up (D, S), so D must name one module's *library*: unique (two libraries under one D
would attribute one module's hit to a person enrolled on the other — an innocent refused as a
duplicate, another person's record released) and stable (a library whose D changes turns its
templates into unregistered leftovers: the desk clears them when their fingers come back, and a
duplicate of an enrolment made before the change is no longer caught on that module).
Addresses and passwords are the same on every module, so D has to be made.

**Notepad identity** (32 hex digits; ``notepad: available`` in the probe). The driver writes
``SGSS-FP1`` + a random UUID to notepad page 0 the first time and reads it back ever after. It
travels with the module: any port, any workstation, any desk. A page 0 holding someone else's
data is never overwritten; its hash serves instead, just as stable.

**Port identity** (fallback, ``port-`` + 32 hex digits). Some clones have no usable notepad: they
answer ReadNotepad with 0x01, do not answer it at all, or accept a write and keep nothing.
Nothing else a module reports tells two of them apart (system id, library size and address are
the same on every module of a model), so the fallback names *where the module is*: a hash of this
workstation (its OS machine id and host name), the port (without URL options; ``com3`` is
``COM3``) and what the module does report (system id, library size, address). It is computed, not
stored, so the CLI probe and every desk user on the workstation get the same value, and a
reinstalled desk keeps it. The trade-off, written down for the technicians (README, Devices):

* same clone, same port, same workstation: same identity — the normal case;
* same clone moved to another port or workstation: a *new* identity (on Windows a CH340 adapter
  in another USB socket is another COM port). Its old templates become
  unregistered leftovers (cleared when their fingers come back), and duplicates against
  enrolments made before the move are not caught on it. Keep a notepad-less module on its port;
* another clone of the same model put on that port: it *inherits* the identity. Harmless when
  it arrives empty (each slot it fills is registered afresh, releasing the old record), wrong
  when it brings templates stored elsewhere — empty such a module first
  (``python -m drivers fingerprint empty --port … --yes``);
* two workstations: different identities, since the machine id or the host name differs (a
  network does not allow two machines one host name; a cloned disk keeps the machine id but not
  the host name).
A module with a working notepad never uses the fallback, so buying modules with a notepad
avoids all of this.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from drivers.fingerprint.codec import NOTEPAD_PAGE_SIZE, SystemParameters

DEVICE_ID_MAGIC = b"SGSS-FP1"  # notepad page 0: magic + 16-byte UUID + zero padding
DEVICE_ID_PAGE = 0
BLANK_PAGES = (bytes(NOTEPAD_PAGE_SIZE), b"\xff" * NOTEPAD_PAGE_SIZE)
PORT_ID_PREFIX = "port-"
_PORT_ID_DOMAIN = b"SGSS-FP-PORT-ID-1"
_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
_COM_PORT = re.compile(r"^(?:\\\\\.\\)?(com\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class DeviceIdentity:
    """``value`` is what the server files templates under; ``notepad_problem`` is None when it
    comes from the module's notepad, else why the notepad could not hold it (for reports)."""

    value: str
    notepad_problem: str | None = None

    @property
    def from_notepad(self) -> bool:
        return self.notepad_problem is None


def notepad_id(page: bytes) -> str | None:
    """Our identifier from a page 0 we wrote, a stand-in for foreign data, or None if blank."""
    magic = len(DEVICE_ID_MAGIC)
    if page[:magic] == DEVICE_ID_MAGIC:
        return page[magic : magic + 16].hex()
    if page in BLANK_PAGES:
        return None
    return hashlib.sha256(page).digest()[:16].hex()


def machine_id() -> str:
    """The operating system's id of this machine (Windows MachineGuid, systemd machine-id), or
    "" where there is none; the same value Qt's ``QSysInfo.machineUniqueId`` reads."""
    if sys.platform == "win32":
        import winreg

        with contextlib.suppress(OSError):
            access = winreg.KEY_READ | winreg.KEY_WOW64_64KEY
            path = r"SOFTWARE\Microsoft\Cryptography"
            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, path, 0, access) as key:
                return str(winreg.QueryValueEx(key, "MachineGuid")[0]).strip().lower()
        return ""
    for name in _MACHINE_ID_FILES:
        with contextlib.suppress(OSError):
            text = Path(name).read_text(encoding="ascii").strip().lower()
            if text:
                return text
    return ""


def station_key() -> str:
    """This workstation: machine id and host name together, so a collision needs both to clash."""
    return f"{machine_id()}/{socket.gethostname().strip().lower()}"


def normalise_port(port: str) -> str:
    """The port without URL options, Windows COM names in one spelling (``\\\\.\\com3`` → COM3)."""
    bare = port.strip().split("?", 1)[0]
    com = _COM_PORT.match(bare)
    return com.group(1).upper() if com else bare


def port_id(station: str, port: str, params: SystemParameters) -> str:
    """The fallback identity of a notepad-less module: see the module docstring."""
    digest = hashlib.sha256()
    for part in (_PORT_ID_DOMAIN, station.encode(), normalise_port(port).encode()):
        digest.update(struct.pack(">I", len(part)) + part)
    digest.update(struct.pack(">HHI", params.system_id, params.library_size, params.address))
    return PORT_ID_PREFIX + digest.digest()[:16].hex()
