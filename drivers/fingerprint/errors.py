"""The errors a fingerprint module's caller can catch, beyond ``drivers.errors``.

A few families of confirmation codes get their own class because the caller reacts to the family,
not the code: a quality failure means "press again", a mismatch means "start the enrolment
over", a full library or an access error means "call the technician". The driver adds its own
for what the module cannot report: a finger that never came, a slot already taken, a template
stream that will not end.
"""

from __future__ import annotations

from drivers.errors import DeviceError, DeviceReportedError, DeviceTimeoutError, FramingError
from drivers.fingerprint.codes import OK, describe


class FingerprintError(DeviceReportedError):
    """The module answered with a non-zero confirmation code.

    ``device_code`` is the byte; ``code`` is ``FP_`` + the table's stable name (``FP_TOO_DRY``),
    so logs and the API tell the cases apart without knowing the protocol.
    """

    code = "FINGERPRINT"

    def __init__(self, device_code: int, message: str | None = None, *, detail: str = "") -> None:
        entry = describe(device_code)
        super().__init__(device_code, message or entry.message, detail=detail)
        self.name = entry.name
        self.code = f"FP_{entry.name}"


class FingerprintQualityError(FingerprintError):
    """The finger was seen but the image is not usable: have the person press again."""


class FingerMismatchError(FingerprintError):
    """Two prints that should be the same finger are not (Match 08, RegModel 0A)."""


class LibraryFullError(FingerprintError):
    """No free slot left in the module's library."""


class SlotOutOfRangeError(FingerprintError):
    """A slot number beyond the module's library size."""


class ModuleAccessError(FingerprintError):
    """Wrong password or address: a settings problem, not the person's finger."""


class ModuleHardwareError(FingerprintError):
    """Flash or sensor failure: retrying at the desk will not help for long."""


_FAMILIES: dict[int, type[FingerprintError]] = {
    **dict.fromkeys((0x03, 0x04, 0x05, 0x06, 0x07, 0x15, 0x17), FingerprintQualityError),
    **dict.fromkeys((0x08, 0x0A), FingerMismatchError),
    0x1F: LibraryFullError,
    0x0B: SlotOutOfRangeError,
    **dict.fromkeys((0x13, 0x20, 0x21), ModuleAccessError),
    **dict.fromkeys((0x18, 0x29), ModuleHardwareError),
}


def error_for(code: int, *, detail: str = "") -> FingerprintError:
    """The exception for a non-zero confirmation code (the caller raises it)."""
    if code == OK:
        raise ValueError("confirmation code 00 is not an error")
    return _FAMILIES.get(code, FingerprintError)(code, detail=detail)


class FingerTimeoutError(DeviceTimeoutError):
    """Nobody put a finger on (or took it off) the sensor in time; the module itself is fine."""

    code = "FINGER_TIMEOUT"
    default_message = "等待按压手指超时，请重新开始"


class SlotInUseError(DeviceError):
    """An explicit slot already holds a template: enrolment never overwrites one silently."""

    code = "SLOT_IN_USE"
    default_message = "该编号已存有指纹，请先删除或选择其他编号"


class TemplateTooLargeError(FramingError):
    """A template upload went past the cap: a runaway stream or a module we do not know."""

    code = "TEMPLATE_TOO_LARGE"
    default_message = "指纹模板数据超出上限，该指纹模块型号可能不兼容"
