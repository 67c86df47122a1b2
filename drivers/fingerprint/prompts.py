"""What an enrolment tells the person at the sensor, and what it hands back.

Small values, shared by the driver's own ``enrol``, the CLI and the desk client, so the same
Chinese prompt reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from drivers.errors import CancelledByUserError
from drivers.fingerprint.codec import SearchResult


@dataclass(frozen=True)
class Prompt:
    """What to tell the person at the sensor; ``kind`` is stable, ``text`` is shown."""

    kind: str
    text: str


PLACE_FINGER = Prompt("place", "请将手指平放在采集窗口")
LIFT_FINGER = Prompt("lift", "请抬起手指")
PLACE_AGAIN = Prompt("again", "请再次按压同一手指")
SEARCHING = Prompt("searching", "正在比对指纹库…")
STORING = Prompt("storing", "正在保存指纹…")

PromptHandler = Callable[[Prompt], None]


class CancelToken(Protocol):
    """``threading.Event`` or anything with ``is_set`` (and optionally ``wait``)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class EnrolResult:
    """``slot`` holds this finger; ``duplicate`` is set when it was already there (nothing was
    stored), so the caller can say "已录入，编号 N" instead of creating a second template."""

    slot: int
    duplicate: SearchResult | None = None

    @property
    def created(self) -> bool:
        return self.duplicate is None


def say(on_prompt: PromptHandler | None, prompt: Prompt) -> None:
    if on_prompt is not None:
        on_prompt(prompt)


def check_cancel(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.is_set():
        raise CancelledByUserError()
