from typing import Any

from shared.errors import ErrorCode
from shared.schemas.common import ActionState


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


def action_state(refusal: AppError | None) -> ActionState:
    """An action's availability as the desk shows it: allowed, or the refusal's code and its
    Chinese message (with the particular reasons a gate listed, when it listed any)."""
    if refusal is None:
        return ActionState(allowed=True)
    reason = refusal.message
    listed = refusal.details.get("reasons") if isinstance(refusal.details, dict) else None
    extra = [r for r in listed or () if r != reason]
    if extra:
        reason = f"{reason}：{'；'.join(extra)}"
    return ActionState(allowed=False, reason_code=refusal.code.value, reason=reason)
