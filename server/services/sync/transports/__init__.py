"""How bundles cross (SYNC.md, Transports): a folder pair for a file ferry, or the portal's
HTTP gateway. Both present the same ``Transport`` (``base``) to the cycle; ``from_settings``
picks the one the settings name."""

from server.clock import Clock, SystemClock
from server.config import Settings
from server.services.sync.transports.base import Arrival, Transport, TransportError

__all__ = ["Arrival", "Transport", "TransportError", "from_settings"]


def from_settings(settings: Settings, clock: Clock | None = None) -> Transport:
    """The transport ``SGSS_SYNC_TRANSPORT`` names, or ``TransportError`` (Chinese) when sync
    is not configured or the setting it needs is missing."""
    if settings.sync_transport == "files":
        if settings.sync_dir is None:
            raise TransportError("内外网数据同步使用文件摆渡，但未设置同步文件夹 SGSS_SYNC_DIR")
        from server.services.sync.transports.files import FolderTransport

        return FolderTransport(settings.sync_dir, clock or SystemClock())
    if settings.sync_transport == "http":
        if not settings.sync_url:
            raise TransportError("内外网数据同步使用 HTTP 网关，但未设置网关地址 SGSS_SYNC_URL")
        from server.services.sync.transports.http import GatewayTransport

        return GatewayTransport(
            settings.sync_url,
            timeout=settings.sync_http_timeout_seconds,
            attempts=settings.sync_http_attempts,
            ca_file=settings.sync_ca_file,
        )
    raise TransportError("未配置内外网数据同步：请设置 SGSS_SYNC_TRANSPORT 为 files 或 http")
