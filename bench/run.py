"""Foundation benchmarks: `make bench`. Prints one line per figure; no pass/fail thresholds.

Builds a large demo province on SQLite (and PostgreSQL when reachable), then measures what a
clerk waits for: sign-in (argon2id at production cost), a page of the user list, the org tree,
and the administrator's `audit verify` over the whole log.
"""

import statistics
import time
import tracemalloc
from collections.abc import Callable

from fastapi.testclient import TestClient

from bench.scratch import scratch_database
from server.app import create_app
from server.clock import SystemClock
from server.config import Settings
from server.db.session import create_session_factory
from server.demo import data as demo_data
from server.services import audit, bootstrap
from server.services.passwords import Passwords
from shared.audit_actions import AuditAction, AuditEntity

AUDIT_ROWS = 20_000


def timed(label: str, fn: Callable[[], object], repeat: int = 20) -> None:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(f"  {label:<44} median {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms")


def run(url: str, kind: str) -> None:
    settings = Settings(database_url=url)
    app = create_app(settings)
    factory = create_session_factory(app.state.engine)
    now = SystemClock().now()
    with factory() as session:
        bootstrap.init_db(app.state.engine, session, now=now, province="330000")
        tracemalloc.start()
        start = time.perf_counter()
        summary = demo_data.generate(
            session,
            now=now,
            passwords=Passwords(settings),
            signer=app.state.context.signer,
            size="large",
            seed=1,
        )
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(
        f"[{kind}] demo-data large: {summary.orgs} orgs, {summary.users} users "
        f"in {elapsed:.1f} s, peak Python memory {peak:.0f} MiB"
    )
    with TestClient(app) as client:
        login = {"username": "demo_admin", "password": demo_data.DEMO_PASSWORD}
        timed(
            "POST /auth/login (argon2id 64 MiB, t=3)",
            lambda: client.post("/api/v1/auth/login", json=login),
            repeat=10,
        )
        token = client.post("/api/v1/auth/login", json=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        timed(
            "GET /users page 50 of all (admin, all scope)",
            lambda: client.get(
                "/api/v1/users", params={"page": 40, "page_size": 50}, headers=headers
            ),
        )
        timed(
            "GET /users search by name",
            lambda: client.get("/api/v1/users", params={"q": "王"}, headers=headers),
        )
        timed(
            "GET /orgs whole tree (page_size 5000)",
            lambda: client.get("/api/v1/orgs", params={"page_size": 5000}, headers=headers),
            repeat=5,
        )
        city = {"username": "c3301admin", "password": demo_data.DEMO_PASSWORD}
        city_token = client.post("/api/v1/auth/login", json=city).json()["access_token"]
        city_headers = {"Authorization": f"Bearer {city_token}"}
        timed(
            "GET /users as a city admin (subtree scope)",
            lambda: client.get("/api/v1/users", params={"page_size": 50}, headers=city_headers),
        )
    with factory() as session:
        start = time.perf_counter()
        for n in range(AUDIT_ROWS):
            audit.record(
                session,
                now=now,
                actor=audit.CLI_ACTOR,
                action=AuditAction.DEMO_GENERATE,
                entity_type=AuditEntity.DATABASE,
                entity_id=n,
                before={"n": n},
                after={"n": n + 1},
            )
            if n % 1000 == 999:
                session.commit()
        session.commit()
        append = (time.perf_counter() - start) / AUDIT_ROWS * 1e6
        print(f"  audit append: {append:.0f} µs per record ({AUDIT_ROWS} records)")
        start = time.perf_counter()
        report = audit.verify_chain(session)
        print(
            f"  audit verify: {report.checked} records in "
            f"{(time.perf_counter() - start) * 1000:.0f} ms, ok={report.ok}"
        )
    app.state.engine.dispose()


def main() -> None:
    for kind in ("sqlite", "postgresql"):
        with scratch_database(kind) as url:
            if url is not None:
                run(url, kind)


if __name__ == "__main__":
    main()
