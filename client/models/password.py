"""Change-password form state: the policy checked as the clerk types."""

from dataclasses import dataclass

from shared.password_policy import policy_violations


@dataclass(frozen=True)
class PasswordCheck:
    problems: tuple[str, ...]
    mismatch: bool

    @property
    def ok(self) -> bool:
        return not self.problems and not self.mismatch


def check_new_password(password: str, repeat: str, *, username: str) -> PasswordCheck:
    return PasswordCheck(
        tuple(policy_violations(password, username=username)), bool(repeat) and password != repeat
    )
