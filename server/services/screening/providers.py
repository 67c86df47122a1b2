"""Which screening source the server uses, from its settings."""

from sqlalchemy.orm import Session

from server.config import Settings
from server.services.errors import AppError
from server.services.screening.base import ScreeningProvider
from server.services.screening.remote import HttpScreeningProvider
from server.services.screening.watchlist import WatchListProvider
from shared.errors import ErrorCode


def provider_for(settings: Settings, session: Session) -> ScreeningProvider:
    """``watchlist`` checks the imported local list; ``http`` asks the police data service."""
    if settings.screening_provider == "http":
        if not settings.screening_url:
            raise AppError(
                ErrorCode.SCREENING_PROVIDER_UNAVAILABLE,
                "未配置公安数据服务地址（SGSS_SCREENING_URL），暂不能审查",
            )
        return HttpScreeningProvider(settings.screening_url, settings.screening_timeout_seconds)
    return WatchListProvider(session)
