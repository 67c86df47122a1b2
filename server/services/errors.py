from typing import Any

from shared.errors import ErrorCode


class AppError(Exception):
    """A refusal with a stable code; the API answers it as ``{"code","message","details"}``.

    ``retry_after`` (seconds) goes out as the ``Retry-After`` header: when to ask again."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        details: Any = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        self.code = code
        self.message = message or code.message
        self.details = details
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.message}")


def check_version(seen: int | None, current: int) -> None:
    """Optimistic concurrency: a client that says which version it saw must have seen the latest."""
    if seen is not None and seen != current:
        raise AppError(ErrorCode.STALE_VERSION, details={"seen": seen, "current": current})


def not_found(entity: str = "") -> AppError:
    return AppError(ErrorCode.NOT_FOUND, details={"entity": entity} if entity else None)
