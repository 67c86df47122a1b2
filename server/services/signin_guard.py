"""The sign-in lockout, counted in the database per normalised username.

Failures are counted for every name tried, whether an account has it or not (no user row is
made for a name that is not one), so an unknown name and a real one answer alike: the same 401,
and the same 423 after the same number of failures. The count lives in the database, so the
lockout holds across several server processes.

An attempt is *reserved* before its password is checked: one atomic statement (an upsert with
``failed_attempts = failed_attempts + 1 … RETURNING``) counts it and, when it is the one that
reaches the threshold, sets the lock at once. Attempts that arrive while the name is locked are
refused without checking a password, so however they arrive — one after another, forty at once,
through several processes — at most ``lockout_threshold`` passwords are checked per window. A
correct password clears the count (the reservation was only provisional); a wrong one leaves it.

Failures count within ``lockout_minutes`` of the first one of the window; a window that ran out,
or a lock that did, starts afresh. A row that has run out means nothing and is pruned.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Delete, and_, case, delete, literal, null, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.base import UTCDateTime
from server.db.models import SignInGuard

_GUARDS = SignInGuard.__table__


KEY_LENGTH = 64  # sign_in_guards.username; account names are no longer


def normalise(username: str) -> str:
    """The key of a name: how ``find_user`` matches it, so a variant cannot dodge the count.
    Cut to the column's length: lower-casing can lengthen a name (``İ`` becomes two characters),
    and no account's name is longer, so the cut never merges two real names."""
    return username.strip().lower()[:KEY_LENGTH]


@dataclass(frozen=True)
class Reservation:
    """This attempt's place in the count. ``refused_until`` set: the name is locked, nothing was
    counted and no password may be checked. ``locks_until`` set: this attempt reached the
    threshold and the name stays locked until then unless its password proves right."""

    attempt: int
    locks_until: datetime | None = None
    refused_until: datetime | None = None


def reserve(
    session: Session, *, username: str, now: datetime, threshold: int, lock: timedelta
) -> Reservation:
    """Count one attempt for ``username`` (normalised) in the caller's transaction; the caller
    commits before checking the password so other requests and processes see it."""
    g = _GUARDS.c
    now_value = literal(now, UTCDateTime())
    until_value = literal(now + lock, UTCDateTime())
    fresh = or_(g.locked_until.is_not(None), g.window_started_at <= now - lock)
    count = case((fresh, 1), else_=g.failed_attempts + 1)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(SignInGuard)
        .values(
            username=username,
            failed_attempts=1,
            window_started_at=now,
            locked_until=now + lock if threshold <= 1 else None,
        )
        .on_conflict_do_update(
            index_elements=[g.username],
            set_={
                "failed_attempts": count,
                "window_started_at": case((fresh, now_value), else_=g.window_started_at),
                "locked_until": case((count >= threshold, until_value), else_=null()),
            },
            where=or_(g.locked_until.is_(None), g.locked_until <= now),
        )
        .returning(g.failed_attempts, g.locked_until)
    )
    row = session.execute(statement).one_or_none()
    if row is not None:
        return Reservation(attempt=row[0], locks_until=row[1])
    until = session.scalar(select(g.locked_until).where(g.username == username))
    return Reservation(attempt=0, refused_until=until or now + lock)


def clear(session: Session, *, username: str) -> dict[str, object]:
    """Forget the count and any lock of ``username`` (a correct password, an administrator's
    unlock or password reset); returns what there was, for the audit record."""
    row = session.execute(
        delete(SignInGuard)
        .where(SignInGuard.username == normalise(username))
        .returning(SignInGuard.failed_attempts, SignInGuard.locked_until)
    ).one_or_none()
    if row is None:
        return {"failed_attempts": 0, "locked_until": None}
    return {"failed_attempts": row[0], "locked_until": row[1]}


def prune(now: datetime, *, lock: timedelta) -> Delete:
    """The rows whose window and lock have both run out (they behave exactly as no row)."""
    return delete(SignInGuard).where(
        or_(
            SignInGuard.locked_until <= now,
            and_(SignInGuard.locked_until.is_(None), SignInGuard.window_started_at <= now - lock),
        )
    )
