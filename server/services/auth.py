"""Sign-in, lockout, bearer tokens, password change (old password or SMS code), sign-out."""

import hashlib
import logging
import math
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import AuthToken, AuthzEpoch, Org, User, VerificationCode
from server.services import audit, signin_guard
from server.services.audit import Actor
from server.services.errors import AppError
from server.services.notifications import enqueue_sms
from server.services.passwords import Passwords, numeric_code
from server.services.throttle import Refusal, SignInThrottle
from shared.audit_actions import AuditAction, AuditEntity
from shared.errors import ErrorCode
from shared.masking import mask_mobile
from shared.password_policy import policy_violations

log = logging.getLogger("sgss.auth")

TOKEN_TOUCH_SECONDS = 30  # last_used_at is written at most this often per token
PURPOSE_CHANGE_PASSWORD = "change_password"
MAX_CODE_ATTEMPTS = 5


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    access_token: str
    must_change_password: bool
    expires_at: datetime
    idle_timeout_seconds: int


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def _minutes_left(until: datetime, now: datetime, lock: timedelta) -> int:
    """Whole minutes until ``until``. A request that took its time at arrival may find a lock
    set a moment later by a concurrent one, seconds more than the lockout away: that reads as
    the lockout's own length, not a minute more. A lock longer than the lockout by more than
    that (the setting shortened since it was set) reads as it is."""
    left = (until - now).total_seconds()
    if left <= lock.total_seconds() + 60:
        left = min(left, lock.total_seconds())
    return max(1, math.ceil(left / 60))


def _locked_error(until: datetime, now: datetime, lock: timedelta) -> AppError:
    minutes = _minutes_left(until, now, lock)
    return AppError(
        ErrorCode.AUTH_ACCOUNT_LOCKED,
        f"密码错误次数过多，账号已被锁定，请{minutes}分钟后再试或联系管理员解锁",
        {"locked_until": until.isoformat(), "minutes_left": minutes},
    )


def _throttled(
    session: Session, refusal: Refusal, *, now: datetime, name: str, ip: str | None
) -> AppError:
    """429 with Retry-After. Only the first refusal of an episode (until the address or name has
    been quiet for a whole window) is audited and logged as a warning: one record per throttled
    address or name, not one per refused guess."""
    if not refusal.first:
        log.debug("sign-in throttled (%s %s) from %s", refusal.scope, refusal.key, ip)
    else:
        log.warning("sign-in throttled (%s %s) from %s", refusal.scope, refusal.key, ip)
        audit.record(
            session,
            now=now,
            actor=Actor(None, name[:64], ip),
            action=AuditAction.AUTH_THROTTLED,
            entity_type=AuditEntity.SIGN_IN,
            after={"scope": refusal.scope, "retry_after_seconds": refusal.retry_after_seconds},
        )
        session.commit()
    seconds = refusal.retry_after_seconds
    wait = f"{seconds}秒" if seconds < 120 else f"{math.ceil(seconds / 60)}分钟"
    return AppError(
        ErrorCode.AUTH_TOO_MANY_ATTEMPTS,
        f"登录尝试过于频繁，请{wait}后再试",
        {"retry_after_seconds": seconds},
        retry_after=seconds,
    )


def login(
    session: Session,
    *,
    settings: Settings,
    passwords: Passwords,
    throttle: SignInThrottle | None = None,
    now: datetime,
    username: str,
    password: str,
    ip: str | None = None,
    outside_turn: Callable[[], AbstractContextManager[None]] = nullcontext,
) -> LoginResult:
    """Sign in; an unknown name and a wrong password answer exactly alike (401, then 423).

    Order matters: the rate throttle (per process) first, then one attempt reserved in the
    database lockout and committed, and only then the password checked, holding no database
    connection while it waits for its turn at the hasher. See ``signin_guard`` and ``throttle``.
    Audit: a real account's wrong passwords (at most ``lockout_threshold`` per window), every
    lockout, each success; not the refusals while locked or throttled, nor an unknown name's
    guesses below the lockout (the server log has them) — so unauthenticated callers cannot
    grow the audit log at will.
    """
    name = signin_guard.normalise(username)
    admission = None
    if throttle is not None:
        decision = throttle.admit(address=ip, account=name, now=now)
        if isinstance(decision, Refusal):
            raise _throttled(session, decision, now=now, name=name, ip=ip)
        admission = decision
    lock = _lock(settings)
    reservation = signin_guard.reserve(
        session, username=name, now=now, threshold=settings.lockout_threshold, lock=lock
    )
    user = find_user(session, name) if reservation.refused_until is None else None
    session.commit()
    if reservation.refused_until is not None:
        raise _locked_error(reservation.refused_until, now, lock)

    with outside_turn():  # no connection is held here: the attempt was committed above
        if user is None:
            passwords.burn_time(password)
            verified = False
        else:
            verified = passwords.verify(user.password_hash, password)
    if user is None or not verified:
        raise _failed(session, user, reservation, now=now, name=name, ip=ip, lock=lock)

    if admission is not None and throttle is not None:
        throttle.succeeded(admission)
    signin_guard.clear(session, username=name)
    actor = Actor(user.id, f"{user.name}({user.username})", ip)
    if not user.enabled:
        audit.record(
            session,
            now=now,
            actor=actor,
            action=AuditAction.AUTH_LOGIN_FAILED,
            entity_type=AuditEntity.USER,
            entity_id=user.id,
            org_id=user.org_id,
            after={"reason": "disabled"},
        )
        session.commit()
        raise AppError(ErrorCode.AUTH_ACCOUNT_DISABLED)

    values: dict[str, object] = {
        "login_count": User.login_count + 1,
        "last_login_at": now,
    }
    if passwords.needs_rehash(user.password_hash):
        values["password_hash"] = passwords.hash(password)
    session.execute(update(User).where(User.id == user.id).values(**values))
    raw = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=settings.token_absolute_hours)
    session.add(
        AuthToken(
            token_hash=token_digest(raw),
            user_id=user.id,
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
            ip=ip,
        )
    )
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.AUTH_LOGIN,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
    )
    session.commit()
    return LoginResult(raw, user.must_change_password, expires_at, settings.token_idle_minutes * 60)


def _failed(
    session: Session,
    user: User | None,
    reservation: signin_guard.Reservation,
    *,
    now: datetime,
    name: str,
    ip: str | None,
    lock: timedelta,
) -> AppError:
    """The answer to a wrong password, the same whether ``user`` exists or not."""
    locked = reservation.locks_until is not None
    after = {"reason": "wrong_password", "failed_attempts": reservation.attempt}
    if user is not None:
        audit.record(
            session,
            now=now,
            actor=Actor(user.id, f"{user.name}({user.username})", ip),
            action=AuditAction.AUTH_LOCKOUT if locked else AuditAction.AUTH_LOGIN_FAILED,
            entity_type=AuditEntity.USER,
            entity_id=user.id,
            org_id=user.org_id,
            after=after,
        )
    elif locked:
        audit.record(
            session,
            now=now,
            actor=Actor(None, name[:64], ip),
            action=AuditAction.AUTH_LOCKOUT,
            entity_type=AuditEntity.USER,
            after={**after, "reason": "unknown_user"},
        )
    else:
        log.info("sign-in failed for unknown name %r from %s", name[:64], ip)
    session.execute(signin_guard.prune(now, lock=lock))
    session.commit()
    if reservation.locks_until is not None:
        return _locked_error(reservation.locks_until, now, lock)
    return AppError(ErrorCode.AUTH_INVALID_CREDENTIALS)


def _lock(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.lockout_minutes)


@dataclass(frozen=True)
class TokenCheck:
    """A valid token, the account facts every request needs, and the access epoch read with
    them (None before the first change of access has created the row)."""

    token_id: int
    user_id: int
    must_change_password: bool
    epoch: int | None
    also: tuple[Any, ...] = ()
    """The columns a ``token_check_with`` statement read besides, in its order."""


_TOKEN_CHECK = (
    select(
        AuthToken.id,
        AuthToken.user_id,
        AuthToken.revoked_at,
        AuthToken.expires_at,
        AuthToken.last_used_at,
        User.enabled,
        User.must_change_password,
        select(AuthzEpoch.value).where(AuthzEpoch.id == 1).scalar_subquery(),
    )
    .join(User, User.id == AuthToken.user_id)
    .where(AuthToken.token_hash == bindparam("digest"))
)
"""Built once: a statement object reused with new parameters keeps its SQLAlchemy cache key."""
_CHECKED = len(_TOKEN_CHECK.selected_columns)


def token_check_with(*columns: Any, org: bool = False) -> Select[Any]:
    """The token check reading ``columns`` of the token's user (and of the user's organisation
    with ``org``) in the same statement, for an endpoint that needs them anyway: one round
    trip fewer. Build it once, at import (see ``_TOKEN_CHECK``); ``TokenCheck.also`` has them."""
    statement = _TOKEN_CHECK.add_columns(*columns)
    return statement.join(Org, Org.id == User.org_id) if org else statement


def authenticate(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    raw_token: str,
    statement: Select[Any] | None = None,
) -> TokenCheck:
    """Check a bearer token in one plain-column query (no ORM objects: this runs on every
    request, on the session's connection, past the ORM's statement handling: ~0.05 ms less);
    AUTH_TOKEN_INVALID / AUTH_TOKEN_EXPIRED otherwise. ``statement``: one made by
    ``token_check_with``, to read more with the token."""
    check = session.connection().execute(
        _TOKEN_CHECK if statement is None else statement, {"digest": token_digest(raw_token)}
    )
    row = check.one_or_none()
    if row is None:
        raise AppError(ErrorCode.AUTH_TOKEN_INVALID)
    token_id, user_id, revoked_at, expires_at, last_used_at, enabled, must_change, value = row[
        :_CHECKED
    ]
    if revoked_at is not None or not enabled:
        raise AppError(ErrorCode.AUTH_TOKEN_INVALID)
    if now >= expires_at:
        raise AppError(ErrorCode.AUTH_TOKEN_EXPIRED, details={"reason": "absolute"})
    if now - last_used_at >= timedelta(minutes=settings.token_idle_minutes):
        raise AppError(ErrorCode.AUTH_TOKEN_EXPIRED, details={"reason": "idle"})
    if (now - last_used_at).total_seconds() >= TOKEN_TOUCH_SECONDS:
        session.execute(update(AuthToken).where(AuthToken.id == token_id).values(last_used_at=now))
        session.commit()
    return TokenCheck(token_id, user_id, bool(must_change), value, tuple(row[_CHECKED:]))


def revoke_user_tokens(session: Session, *, user_id: int, now: datetime, reason: str) -> int:
    result = session.execute(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=now, revoke_reason=reason)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def logout(session: Session, *, now: datetime, token: AuthToken, actor: Actor) -> None:
    token.revoked_at = now
    token.revoke_reason = "logout"
    user = session.get(User, token.user_id)
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.AUTH_LOGOUT,
        entity_type=AuditEntity.USER,
        entity_id=token.user_id,
        org_id=user.org_id if user else None,
    )
    session.commit()


def send_verification_code(
    session: Session, *, settings: Settings, now: datetime, user: User, actor: Actor
) -> tuple[str, int]:
    """Queue an SMS with a 6-digit code; returns the masked mobile and seconds of validity."""
    if not user.mobile:
        raise AppError(ErrorCode.MOBILE_MISSING)
    last = session.scalar(
        select(func.max(VerificationCode.created_at)).where(VerificationCode.user_id == user.id)
    )
    interval = timedelta(seconds=settings.verification_code_interval_seconds)
    if last is not None and now - last < interval:
        wait = math.ceil((last + interval - now).total_seconds())
        raise AppError(
            ErrorCode.VERIFICATION_CODE_TOO_SOON,
            f"验证码发送过于频繁，请{wait}秒后再试",
            {"seconds_left": wait},
        )
    code = numeric_code()
    lifetime = settings.verification_code_minutes * 60
    session.add(
        VerificationCode(
            user_id=user.id,
            purpose=PURPOSE_CHANGE_PASSWORD,
            created_at=now,
            code_hash=token_digest(f"{user.id}:{code}"),
            expires_at=now + timedelta(seconds=lifetime),
        )
    )
    enqueue_sms(
        session,
        now=now,
        mobile=user.mobile,
        user_id=user.id,
        subject="修改密码验证码",
        body=f"【保安服务监管】您正在修改登录密码，验证码{code}，"
        f"{settings.verification_code_minutes}分钟内有效。如非本人操作，请立即联系管理员。",
    )
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.AUTH_VERIFICATION_CODE_SENT,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
    )
    session.commit()
    return mask_mobile(user.mobile) or "", lifetime


def _consume_code(session: Session, *, user: User, code: str, now: datetime) -> bool:
    candidate = session.scalar(
        select(VerificationCode)
        .where(
            VerificationCode.user_id == user.id,
            VerificationCode.purpose == PURPOSE_CHANGE_PASSWORD,
            VerificationCode.used_at.is_(None),
            VerificationCode.expires_at > now,
        )
        .order_by(VerificationCode.created_at.desc())
        .limit(1)
    )
    if candidate is None or candidate.attempts >= MAX_CODE_ATTEMPTS:
        return False
    if secrets.compare_digest(candidate.code_hash, token_digest(f"{user.id}:{code.strip()}")):
        candidate.used_at = now
        return True
    candidate.attempts += 1
    session.commit()  # the failed attempt counts even though the request fails
    return False


def change_password(
    session: Session,
    *,
    passwords: Passwords,
    now: datetime,
    user: User,
    new_password: str,
    old_password: str | None = None,
    verification_code: str | None = None,
    actor: Actor,
) -> None:
    """Change the password proven by the old one or by an SMS code; revokes every token."""
    if old_password:
        if not passwords.verify(user.password_hash, old_password):
            raise AppError(ErrorCode.PASSWORD_OLD_WRONG)
    elif not verification_code or not _consume_code(
        session, user=user, code=verification_code, now=now
    ):
        raise AppError(ErrorCode.VERIFICATION_CODE_INVALID)
    problems = policy_violations(new_password, username=user.username)
    if problems:
        session.rollback()
        raise AppError(
            ErrorCode.PASSWORD_WEAK, "新密码不符合规则：" + "；".join(problems), problems
        )
    if passwords.verify(user.password_hash, new_password):
        session.rollback()
        raise AppError(ErrorCode.PASSWORD_REUSED)
    user.password_hash = passwords.hash(new_password)
    user.must_change_password = False
    user.password_changed_at = now
    user.updated_at = now
    revoke_user_tokens(session, user_id=user.id, now=now, reason="password_changed")
    audit.record(
        session,
        now=now,
        actor=actor,
        action=AuditAction.USER_PASSWORD_CHANGED,
        entity_type=AuditEntity.USER,
        entity_id=user.id,
        org_id=user.org_id,
        after={"via": "old_password" if old_password else "verification_code"},
    )
    session.commit()
