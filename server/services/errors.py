from typing import Any

from shared.errors import ErrorCode


class AppError(Exception):
    """A refusal with a stable code; the API answers it as ``{"code","message","details"}``."""

    def __init__(self, code: ErrorCode, message: str | None = None, details: Any = None) -> None:
        self.code = code
        self.message = message or code.message
        self.details = details
        super().__init__(f"{code}: {self.message}")


def not_found(entity: str = "") -> AppError:
    return AppError(ErrorCode.NOT_FOUND, details={"entity": entity} if entity else None)
