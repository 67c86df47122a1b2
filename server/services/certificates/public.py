"""The public side: the lookup anyone may make, braked per client address like sign-in.

The brake is the sign-in throttle's sliding window (``server.services.throttle``), per process:
``certificate_lookup_per_address`` lookups per ``certificate_lookup_window_seconds``. Every
lookup takes a slot, found or not, so guessing ID numbers for a name is as slow as guessing
passwords. The first refusal of an episode is audited; the others are not.
"""

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from server.config import Settings
from server.services import audit
from server.services.audit import Actor
from server.services.certificates.queries import lookup
from server.services.errors import AppError
from server.services.throttle import SlidingWindow
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.schemas.certificates import LookupItem


def lookup_window(settings: Settings) -> SlidingWindow:
    return SlidingWindow(
        settings.certificate_lookup_per_address,
        timedelta(seconds=settings.certificate_lookup_window_seconds),
    )


def public_lookup(
    session: Session,
    window: SlidingWindow,
    *,
    now: datetime,
    ip: str | None,
    name: str,
    id_number: str | None,
    number: str | None,
) -> list[LookupItem]:
    address = ip or "-"
    full = window.check(address, now)
    if full is not None:
        seconds, first = full
        if first:
            audit.record(
                session,
                now=now,
                actor=Actor(None, "公众查询", ip),
                action=AuditAction.CERTIFICATE_LOOKUP_THROTTLED,
                entity_type=AuditEntity.CERTIFICATE,
                after={"retry_after_seconds": seconds},
            )
            session.commit()
        raise AppError(
            ErrorCode.CERTIFICATE_LOOKUP_TOO_MANY,
            details={"retry_after_seconds": seconds},
            retry_after=seconds,
        )
    window.take(address, now)
    return lookup(session, name=name, id_number=id_number, number=number)
