"""One error hierarchy for every device, so a caller catches ``DeviceError`` and shows ``message``.

Each error carries a stable ``code`` (for logs, tests and the API) and a Chinese ``message`` a
clerk can act on. Protocol layers raise the narrow classes; nothing else escapes a driver:
pyserial's own exceptions are translated at the transport boundary.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of all driver errors. ``code`` is stable; ``message`` is for the clerk."""

    code = "DEVICE_ERROR"
    default_message = "设备出现故障，请检查设备后重试"

    def __init__(self, message: str | None = None, *, detail: str = "") -> None:
        self.message = message or self.default_message
        self.detail = detail
        super().__init__(self.message if not detail else f"{self.message}（{detail}）")


class TransportError(DeviceError):
    """The port failed: cannot open, taken by another program, or the device was unplugged."""

    code = "TRANSPORT"
    default_message = "无法与设备通信，请检查数据线和端口设置"


class PortBusyError(TransportError):
    code = "PORT_BUSY"
    default_message = "端口已被其他程序占用，请关闭占用该端口的程序后重试"


class PortNotFoundError(TransportError):
    code = "PORT_NOT_FOUND"
    default_message = "找不到该端口，请确认设备已连接并在“设备设置”中选择正确的端口"


class DisconnectedError(TransportError):
    code = "DISCONNECTED"
    default_message = "设备已断开连接，请重新插好数据线后重试"


class DeviceTimeoutError(DeviceError):
    """No (complete) answer before the deadline."""

    code = "TIMEOUT"
    default_message = "设备无响应，请确认设备已通电、端口和波特率设置正确"


class FramingError(DeviceError):
    """Bytes arrived but did not form a valid frame (bad header, impossible length, wrong kind)."""

    code = "FRAMING"
    default_message = "设备应答格式错误，请检查波特率设置或重新插拔设备"


class ChecksumError(FramingError):
    code = "CHECKSUM"
    default_message = "设备应答校验失败（线路干扰），请重试；多次出现请更换数据线"


class DeviceReportedError(DeviceError):
    """The device answered with an error code of its own; ``device_code`` keeps it."""

    code = "DEVICE_REPORTED"

    def __init__(self, device_code: int | str, message: str | None = None, *, detail: str = ""):
        self.device_code = device_code
        super().__init__(message, detail=detail)


class CancelledByUserError(DeviceError):
    """The operator cancelled a long operation (waiting for a finger, a print job)."""

    code = "CANCELLED"
    default_message = "操作已取消"
