"""argon2id hashing and one-time passwords."""

import secrets
import string
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
    def __init__(self, settings: Settings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
            type=Type.ID,
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(16))

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
