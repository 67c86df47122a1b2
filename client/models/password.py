"""Change-password form state: the policy checked as the clerk types, and the SMS code's
resend countdown."""

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


@dataclass
class ResendCountdown:
    """获取验证码 waits as long as the server said (``resend_after_seconds``, or the seconds left
    of a refused early request) before it can be pressed again; the view ticks it each second."""

    seconds_left: int = 0

    def start(self, seconds: int) -> None:
        self.seconds_left = max(0, int(seconds))

    def tick(self) -> None:
        self.seconds_left = max(0, self.seconds_left - 1)

    @property
    def ready(self) -> bool:
        return self.seconds_left == 0

    @property
    def label(self) -> str:
        return "获取验证码" if self.ready else f"重新获取（{self.seconds_left}秒）"
