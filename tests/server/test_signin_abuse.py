"""Sign-in under abuse: concurrent guesses, throttling, bounded audit, hashing cap, and no
difference between an unknown name and a wrong password (issue 14, items 2–4)."""

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.app import create_app
from server.clock import FrozenClock
from server.config import Settings
from server.db.models import AuditEntry, User
from server.db.session import create_db_engine, create_session_factory
from server.services import auth
from server.services.errors import AppError
from server.services.passwords import Passwords
from server.services.throttle import SignInThrottle
from tests.server.conftest import ADMIN, ADMIN_PASSWORD, RecordingSender, login

GUESSES = 40


class CountingPasswords(Passwords):
    """Real argon2, and a count of the passwords actually checked."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.checked = 0
        self._count_lock = threading.Lock()

    def verify(self, password_hash: str, password: str) -> bool:
        with self._count_lock:
            self.checked += 1
        return super().verify(password_hash, password)


def _outcome(
    engine: Engine,
    settings: Settings,
    passwords: Passwords,
    clock: FrozenClock,
    username: str,
    password: str,
    *,
    throttle: SignInThrottle | None = None,
    ip: str = "10.0.0.1",
) -> tuple[int, object]:
    """The status and (code, message, details) the API would answer, from the service."""
    with create_session_factory(engine)() as session:
        try:
            kwargs = {"throttle": throttle} if throttle is not None else {}
            auth.login(
                session,
                settings=settings,
                passwords=passwords,
                now=clock.now(),
                username=username,
                password=password,
                ip=ip,
                **kwargs,  # type: ignore[arg-type]
            )
        except AppError as err:
            return err.code.status, (err.code, err.message, err.details)
    return 200, None


@pytest.fixture
def two_engines(settings: Settings) -> Iterator[list[Engine]]:
    """Two engines on the same database, as two server processes would have."""
    engines = [create_db_engine(settings.database_url) for _ in range(2)]
    yield engines
    for engine in engines:
        engine.dispose()


def test_concurrent_wrong_passwords_are_checked_at_most_threshold_times(
    initialised: Session, settings: Settings, clock: FrozenClock, two_engines: list[Engine]
) -> None:
    passwords = CountingPasswords(settings)
    start = threading.Barrier(GUESSES)

    def guess(n: int) -> int:
        start.wait()
        engine = two_engines[n % 2]
        return _outcome(engine, settings, passwords, clock, ADMIN, f"wrong-{n}")[0]

    with ThreadPoolExecutor(max_workers=GUESSES) as pool:
        statuses = list(pool.map(guess, range(GUESSES)))
    assert set(statuses) <= {401, 423}, statuses
    assert statuses.count(401) <= settings.lockout_threshold - 1
    assert passwords.checked <= settings.lockout_threshold
    status, (code, _, details) = _outcome(  # type: ignore[misc]
        two_engines[0], settings, passwords, clock, ADMIN, ADMIN_PASSWORD
    )
    assert (status, code) == (423, "AUTH_ACCOUNT_LOCKED")
    assert details["minutes_left"] == settings.lockout_minutes
    assert passwords.checked <= settings.lockout_threshold  # not even the right one was checked


def test_unknown_name_answers_exactly_like_a_wrong_password(
    initialised: Session, settings: Settings, clock: FrozenClock, engine: Engine
) -> None:
    passwords = CountingPasswords(settings)
    for attempt in range(settings.lockout_threshold + 2):
        before = passwords.checked
        real = _outcome(engine, settings, passwords, clock, ADMIN, "wrong")
        checked_for_real = passwords.checked - before
        before = passwords.checked
        ghost = _outcome(engine, settings, passwords, clock, " Ghost ", "wrong")
        assert real == ghost, attempt
        assert passwords.checked - before == checked_for_real  # the same hashing work
        expected = 401 if attempt < settings.lockout_threshold - 1 else 423
        assert real[0] == expected, attempt
    with create_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1  # no user was made
    clock.advance(minutes=settings.lockout_minutes, seconds=1)
    assert _outcome(engine, settings, passwords, clock, ADMIN, ADMIN_PASSWORD)[0] == 200
    assert _outcome(engine, settings, passwords, clock, "ghost", "wrong")[0] == 401


def _auth_audit_rows(session: Session) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("auth.%"))
            .order_by(AuditEntry.seq)
        )
    )


@pytest.fixture
def tight(settings: Settings, clock: FrozenClock, sender: RecordingSender) -> Iterator[TestClient]:
    """An app whose throttle trips early: 8 per address, 7 per name, per minute."""
    limits = {
        "signin_throttle_per_address": 8,
        "signin_throttle_per_account": 7,
        "signin_throttle_window_seconds": 60,
    }
    app = create_app(settings.model_copy(update=limits), clock=clock, sender=sender)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def _post(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_address_throttle_answers_429_with_retry_after_and_audits_once(
    tight: TestClient, initialised: Session, clock: FrozenClock
) -> None:
    for _ in range(12):  # successful sign-ins take nothing from the address's allowance
        login(tight, ADMIN, ADMIN_PASSWORD)
    for n in range(8):  # names nobody has, each guessed once, a second apart, from one address
        assert _post(tight, f"nobody{n}", "guess").status_code == 401
        clock.advance(seconds=1)
    refusals = [_post(tight, f"other{n}", "guess") for n in range(20)]
    assert {r.status_code for r in refusals} == {429}
    first = refusals[0]
    assert first.json()["code"] == "AUTH_TOO_MANY_ATTEMPTS"
    assert first.json()["message"] == "登录尝试过于频繁，请52秒后再试"
    assert first.headers["Retry-After"] == "52"
    assert first.json()["details"] == {"retry_after_seconds": 52}
    assert _post(tight, ADMIN, ADMIN_PASSWORD).status_code == 429  # the address is throttled
    clock.advance(seconds=52)  # the oldest guess leaves the window: one more is let through
    assert _post(tight, "nobody9", "guess").status_code == 401
    assert _post(tight, "nobody10", "guess").status_code == 429
    # 12 sign-ins and one record for the throttled address: none for the 9 guesses at unknown
    # names, none for the 22 refusals of the same episode
    assert _auth_audit_rows(initialised) == ["auth.login"] * 12 + ["auth.throttled"]
    clock.advance(seconds=60)
    login(tight, ADMIN, ADMIN_PASSWORD)


def test_account_throttle_and_lockout_from_many_addresses_keep_the_audit_bounded(
    initialised: Session, settings: Settings, clock: FrozenClock, engine: Engine
) -> None:
    limits = {"signin_throttle_per_account": 7, "signin_throttle_window_seconds": 60}
    throttle = SignInThrottle(settings.model_copy(update=limits))
    passwords = CountingPasswords(settings)
    statuses = [
        _outcome(
            engine, settings, passwords, clock, ADMIN, "wrong", throttle=throttle, ip=f"10.0.{n}.1"
        )[0]
        for n in range(50)
    ]
    assert statuses == [401] * 4 + [423] * 3 + [429] * 43
    assert passwords.checked == settings.lockout_threshold
    # five wrong passwords against a real account (the last one locks it), one throttle record
    assert _auth_audit_rows(initialised) == ["auth.login_failed"] * 4 + [
        "auth.lockout",
        "auth.throttled",
    ]


def test_password_hashing_runs_at_most_the_configured_number_at_once(settings: Settings) -> None:
    passwords = Passwords(settings.model_copy(update={"password_hash_concurrency": 2}))
    inside = threading.Semaphore(0)
    release = threading.Event()
    active, most = [0], [0]
    count_lock = threading.Lock()

    class SlowHasher:
        def verify(self, _hash: str, _password: str) -> bool:
            with count_lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            inside.release()
            release.wait(10)
            with count_lock:
                active[0] -= 1
            return True

    passwords._hasher = SlowHasher()  # type: ignore[assignment]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = [pool.submit(passwords.verify, "h", "p") for _ in range(6)]
        assert inside.acquire(timeout=10) and inside.acquire(timeout=10)  # two got in
        assert not inside.acquire(timeout=0.3)  # the other four wait their turn
        release.set()
        assert all(r.result(timeout=10) for r in results)  # …and are served, not refused
    assert most[0] == 2


def test_a_name_that_lowercases_longer_than_its_column_is_an_ordinary_failure(
    client: TestClient, initialised: Session
) -> None:
    """``İ`` lower-cases to two characters: 64 of them become 128, past the guard's column."""
    for name in ("İ" * 64, "x" * 64):
        answer = client.post("/api/v1/auth/login", json={"username": name, "password": "bad"})
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "AUTH_INVALID_CREDENTIALS"


def test_the_throttle_remembers_only_the_keys_it_admitted() -> None:
    from datetime import UTC, datetime, timedelta

    from server.services.throttle import SlidingWindow

    window = SlidingWindow(limit=1, window=timedelta(seconds=60))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(1000):
        assert window.check(f"10.0.{n // 256}.{n % 256}", now) is None  # never taken
    assert len(window._slots) == 0
    window.take("a", now)
    assert window.check("a", now) is not None
    assert len(window._slots) == 1


def test_a_lock_set_by_a_later_request_never_reads_longer_than_the_lockout(
    client: TestClient, initialised: Session, clock: FrozenClock, settings: Settings
) -> None:
    """Concurrent guesses: one request takes its time at arrival and finds the lock another,
    a moment later, has just set; it told the clerk 请16分钟后再试 of a 15-minute lock (seen
    against the running server with 40 parallel guesses)."""
    from datetime import timedelta

    from server.db.models import SignInGuard

    lock = timedelta(minutes=settings.lockout_minutes)
    later = clock.now() + timedelta(seconds=2)
    initialised.add(
        SignInGuard(
            username=ADMIN,
            failed_attempts=settings.lockout_threshold,
            window_started_at=later,
            locked_until=later + lock,
        )
    )
    initialised.commit()
    response = client.post("/api/v1/auth/login", json={"username": ADMIN, "password": "x"})
    assert response.status_code == 423, response.text
    body = response.json()
    assert body["details"]["minutes_left"] == settings.lockout_minutes
    assert f"请{settings.lockout_minutes}分钟后再试" in body["message"]


def test_minutes_left_of_a_lock_read_as_a_clerk_expects() -> None:
    from datetime import UTC, datetime, timedelta

    from server.services.auth import _minutes_left

    now, lock = datetime(2026, 12, 1, 2, 0, tzinfo=UTC), timedelta(minutes=15)
    assert _minutes_left(now + lock + timedelta(seconds=2), now, lock) == 15  # set just after
    assert _minutes_left(now + timedelta(minutes=30), now, lock) == 30  # lockout since shortened
    assert _minutes_left(now + timedelta(seconds=20), now, lock) == 1
    assert _minutes_left(now + timedelta(minutes=7, seconds=1), now, lock) == 8
