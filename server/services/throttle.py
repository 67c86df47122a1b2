"""Sign-in rate throttle per client address and per username, kept in this server process.

Each sign-in takes a slot for its client address and one for its (normalised) username before
anything else happens; a successful sign-in gives both back, so what is limited is failed and
unfinished attempts: ``signin_throttle_per_address`` and ``signin_throttle_per_account`` per
``signin_throttle_window_seconds`` (a sliding window). An office signing in every morning from
one address is not held up; a guesser is, and a crowd of parallel requests too. A refusal takes
no slot and touches no database: 429 ``AUTH_TOO_MANY_ATTEMPTS`` with ``Retry-After``.

Per process, on purpose: it is a brake on the rate, not the security boundary. The lockout (at
most ``lockout_threshold`` passwords checked per name per window) is in the database and holds
across every process; with N processes behind a load balancer a client gets at most N times
these rates. The address is the one uvicorn reports: behind a proxy on the same host it is the
desk's, from ``X-Forwarded-For`` (uvicorn trusts ``FORWARDED_ALLOW_IPS``, loopback by default);
behind a proxy elsewhere that is not listed there, every desk has the proxy's address and shares
one limit.
"""

import math
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.config import Settings


@dataclass(frozen=True)
class Refusal:
    """Which limit refused, for whom, and how long until a slot frees up."""

    scope: str  # "address" | "account"
    key: str
    retry_after_seconds: int
    first: bool  # the first refusal of this key since it last had a quiet window


class SlidingWindow:
    """At most ``limit`` slots per key within ``window``; thread-safe."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._slots: dict[str, deque[datetime]] = {}
        self._refused: set[str] = set()
        self._lock = threading.Lock()
        self._calls = 0

    def _live(self, key: str, now: datetime) -> deque[datetime]:
        slots = self._slots.setdefault(key, deque())
        while slots and slots[0] <= now - self.window:
            slots.popleft()
        return slots

    def check(self, key: str, now: datetime) -> tuple[int, bool] | None:
        """None when a slot is free; else (seconds until one frees, first refusal?). Only
        ``take`` remembers a key: refused or merely checked keys cost no memory."""
        with self._lock:
            if key not in self._slots:
                return None
            slots = self._live(key, now)
            if len(slots) < self.limit:
                return None
            first = key not in self._refused
            self._refused.add(key)
            wait = (slots[0] + self.window - now).total_seconds()
            return max(1, math.ceil(wait)), first

    def take(self, key: str, now: datetime) -> None:
        with self._lock:
            slots = self._live(key, now)
            if not slots:  # a quiet window has passed: a refusal would start a new episode
                self._refused.discard(key)
            slots.append(now)
            self._calls += 1
            if self._calls % 1024 == 0:
                self._sweep(now)

    def give_back(self, key: str, stamp: datetime) -> None:
        with self._lock:
            slots = self._slots.get(key)
            if slots is not None and stamp in slots:
                slots.remove(stamp)

    def _sweep(self, now: datetime) -> None:
        """Drop keys with no live slot, so memory follows the recent traffic only."""
        for key in [k for k in self._slots if not self._live(k, now)]:
            del self._slots[key]
            self._refused.discard(key)


@dataclass(frozen=True)
class Ticket:
    """The slots one admitted attempt took, to give back if it succeeds."""

    address: str
    account: str
    at: datetime


class SignInThrottle:
    def __init__(self, settings: Settings) -> None:
        window = timedelta(seconds=settings.signin_throttle_window_seconds)
        self.by_address = SlidingWindow(settings.signin_throttle_per_address, window)
        self.by_account = SlidingWindow(settings.signin_throttle_per_account, window)
        self._lock = threading.Lock()

    def admit(self, *, address: str | None, account: str, now: datetime) -> Ticket | Refusal:
        """Take a slot in both windows, or refuse (taking none) if either is full."""
        address = address or "-"
        with self._lock:  # both checked and taken together, so a refusal takes nothing
            for scope, window, key in (
                ("address", self.by_address, address),
                ("account", self.by_account, account),
            ):
                full = window.check(key, now)
                if full is not None:
                    return Refusal(scope, key, *full)
            self.by_address.take(address, now)
            self.by_account.take(account, now)
        return Ticket(address, account, now)

    def succeeded(self, ticket: Ticket) -> None:
        """A correct password gives its slots back."""
        self.by_address.give_back(ticket.address, ticket.at)
        self.by_account.give_back(ticket.account, ticket.at)
