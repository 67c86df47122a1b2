"""argon2id hashing and one-time passwords."""

import secrets
import string
import threading
from functools import cached_property

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from server.config import Settings
from shared.password_policy import policy_violations

# No look-alikes (0/O, 1/l/I) so a one-time password read over the phone is typed right.
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_DIGITS = "23456789"
_SYMBOLS = "@#%+=?"


class Passwords:
    """argon2id with at most ``password_hash_concurrency`` hashes computed at once.

    Each hash takes ``argon2_memory_kib`` (64 MiB by default): forty parallel sign-ins took the
    server from 325 MB to 961 MB. Callers beyond the cap wait for a turn rather than fail; a
    sign-in holds no database connection while it waits (``auth.login`` commits first).
    """

    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )
        self._turns = threading.BoundedSemaphore(settings.password_hash_concurrency)

    def hash(self, password: str) -> str:
        with self._turns:
            return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            with self._turns:
                return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @cached_property
    def _dummy_hash(self) -> str:
        return self.hash(secrets.token_urlsafe(16))

    def burn_time(self, password: str) -> None:
        """Spend a verification's worth of time, so unknown usernames are not revealed by timing."""
        self.verify(self._dummy_hash, password)


def one_time_password(length: int = 12) -> str:
    """A random password that itself satisfies the policy (all four classes present)."""
    alphabet = _UPPER + _LOWER + _DIGITS + _SYMBOLS
    while True:
        chars = [secrets.choice(group) for group in (_UPPER, _LOWER, _DIGITS, _SYMBOLS)]
        chars += [secrets.choice(alphabet) for _ in range(length - len(chars))]
        secrets.SystemRandom().shuffle(chars)
        candidate = "".join(chars)
        if not policy_violations(candidate):
            return candidate


def numeric_code(digits: int = 6) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(digits))
