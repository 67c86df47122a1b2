"""Enrolling an applicant's finger on the station module, step by step, with the server deciding
what a library hit means.

Runs on a worker thread; talks to the module through ``drivers`` and to the server through the
API client; reports each step as a ``Prompt`` for the dialog. The order matters:
1. capture once and search the module's library *before* storing anything, so a finger already
   enrolled is found while nothing has changed yet; the server says whose it is (another
   identity → refused and flagged there; the same person → reuse; unregistered → an orphan of an
   interrupted enrolment, cleared);
2. capture again, merge, store in a free slot, then ask the server for the card number;
3. if the server refuses, remove the stored template again, so the module and the server agree.
A device failure at any step raises before the server is asked, leaving the application as it was.
The module's identity (``device_id``) is its notepad UUID, or for a clone without a notepad the
port identity of ``drivers.fingerprint.identity`` (this workstation + port): enrolment works with
either, and the trade-off of the second is written there.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from client.api import ApiClient
from drivers.errors import CancelledByUserError, DeviceError
from drivers.fingerprint.prompts import LIFT_FINGER, PLACE_AGAIN, PLACE_FINGER, SEARCHING
from shared.approvals import FingerprintMatchVerdict
from shared.schemas.applications import (
    ApplicationDetail,
    FingerprintEnrolBody,
    FingerprintMatch,
    FingerprintMatchBody,
)


class Step(IntEnum):
    connect = 1
    first_press = 2
    search = 3
    second_press = 4
    register = 5


STEP_LABELS = {
    Step.connect: "连接采集仪",
    Step.first_press: "第一次按压",
    Step.search: "比对指纹库",
    Step.second_press: "第二次按压",
    Step.register: "保存并获取指纹卡号",
}


@dataclass(frozen=True)
class Prompt:
    step: Step
    text: str


@dataclass(frozen=True)
class Outcome:
    detail: ApplicationDetail | None = None  # enrolled: the application with its card number
    refused: FingerprintMatch | None = None  # the finger belongs to someone else


class SearchHit(Protocol):
    slot: int
    score: int


class Module(Protocol):
    """What enrolment needs of a fingerprint module (``drivers.fingerprint``'s device class)."""

    def connect(self) -> object: ...
    def close(self) -> None: ...
    def device_id(self) -> str: ...
    def capture(
        self,
        buffer: int,
        *,
        finger_timeout: float,
        cancel: threading.Event | None = None,
        on_prompt: Callable[..., None] | None = None,
    ) -> None: ...
    def wait_finger_lifted(
        self, *, timeout: float, cancel: threading.Event | None = None
    ) -> None: ...
    def search(self, buffer: int) -> SearchHit | None: ...
    def reg_model(self) -> None: ...
    def store(self, buffer: int, slot: int) -> None: ...
    def first_free_slot(self) -> int | None: ...
    def delete(self, slot: int, count: int = 1) -> None: ...


FINGER_TIMEOUT = 20.0  # seconds a clerk has to get the applicant's finger onto the window


@dataclass
class Enrolment:
    open_module: Callable[[], Module]
    api: ApiClient
    application_id: int
    version: int
    on_prompt: Callable[[Prompt], None]
    cancel: threading.Event

    def _say(self, step: Step, text: str) -> None:
        if self.cancel.is_set():
            raise CancelledByUserError()
        self.on_prompt(Prompt(step, text))

    def run(self) -> Outcome:
        self._say(Step.connect, "正在连接指纹采集仪…")
        module = self.open_module()
        try:
            module.connect()
            return self._enrol(module, module.device_id())
        finally:
            module.close()

    def _capture(self, module: Module, buffer: int, step: Step, text: str) -> None:
        self._say(step, text)
        module.capture(buffer, finger_timeout=FINGER_TIMEOUT, cancel=self.cancel)

    def _enrol(self, module: Module, device: str) -> Outcome:
        self._capture(module, 1, Step.first_press, PLACE_FINGER.text)
        self._say(Step.search, SEARCHING.text)
        hit = module.search(1)
        if hit is not None:
            body = FingerprintMatchBody(device_id=device, slot=hit.slot, score=hit.score)
            verdict = self.api.fingerprint_match(self.application_id, body)
            if verdict.verdict == FingerprintMatchVerdict.duplicate:
                return Outcome(refused=verdict)
            if verdict.verdict == FingerprintMatchVerdict.same_person:
                self._say(Step.register, verdict.message)
                return Outcome(detail=self._register(device, hit.slot))
            # a template the server never registered: left by an interrupted enrolment
            self._say(Step.search, f"清除指纹库中未登记的第 {hit.slot} 号记录…")
            module.delete(hit.slot)
        self._say(Step.second_press, LIFT_FINGER.text)
        module.wait_finger_lifted(timeout=FINGER_TIMEOUT, cancel=self.cancel)
        self._capture(module, 2, Step.second_press, PLACE_AGAIN.text)
        self._say(Step.register, "正在合成指纹模板…")
        module.reg_model()
        slot = module.first_free_slot()
        if slot is None:
            raise DeviceError("采集仪的指纹库已满，请联系技术人员清理后再录入")
        module.store(1, slot)
        self._say(Step.register, "正在向服务器登记并获取指纹卡号…")
        try:
            return Outcome(detail=self._register(device, slot))
        except Exception:
            # the server did not take it: the module must not keep a template nobody owns
            with contextlib.suppress(DeviceError):
                module.delete(slot)
            raise

    def _register(self, device: str, slot: int) -> ApplicationDetail:
        body = FingerprintEnrolBody(version=self.version, device_id=device, slot=slot)
        return self.api.enrol_fingerprint(self.application_id, body)
