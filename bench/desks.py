"""Desks benchmark: ``make bench-desks`` (or ``python -m bench.desks [--seconds N]``).

A bureau's working day, compressed: 50 desks signed in at once (city administrators, city and
county clerks of a standard demo province), each sending about one request a second — clerks
their inbox page with its counts and the details of an application, administrators the lists of
users, organisations, roles and audit records and one user's details. On PostgreSQL and on
SQLite it starts the real server (``sgss-server serve``) and drives it **open loop**: every
request is fired at its scheduled time (a Poisson stream per desk, 50 requests/s in all)
whether or not the earlier ones have been answered, and its time is counted from that schedule,
so any queueing in the server shows in the figures. The load generator runs on the same
machine. Prints p50/p95/p99 per kind and overall, the server's CPU time per request, errors,
and whether the issue's target holds (p95 ≤ 20 ms).
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.scratch import scratch_database
from client.embedded import EmbeddedServer
from server.demo.data import DEMO_PASSWORD

P95_TARGET_MS = 20.0
RATE_PER_DESK = 1.0  # requests per second
SERVER_ENV = {
    # 50 desks sign in from one address here; in a bureau they come from 50 workstations
    "SGSS_SIGNIN_THROTTLE_PER_ADDRESS": "1000",
}
CLERK_MIX = (("inbox + counts", 0.7), ("application", 0.3))
ADMIN_MIX = (
    ("users", 0.25),
    ("orgs", 0.2),
    ("roles", 0.15),
    ("audit", 0.2),
    ("user", 0.2),
)
LISTS = {"users": "/users", "orgs": "/orgs", "roles": "/roles", "audit": "/audit"}


@dataclass
class Desk:
    username: str
    mix: tuple[tuple[str, float], ...]
    http: requests.Session = field(default_factory=requests.Session)
    application_ids: list[int] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)


def percentile(ordered: list[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q) - 1))]


def build(url: str) -> None:
    env = {**os.environ, "SGSS_DATABASE_URL": url}
    cli = [sys.executable, "-m", "server.cli.main"]
    subprocess.run([*cli, "init-db"], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [*cli, "demo-data", "--size", "standard"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    print(f"  {result.stdout.strip()}")


def desk_accounts(url: str, count: int) -> list[Desk]:
    """City administrators (lists), then city and county clerks (inbox), ``count`` in all."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        names = list(conn.execute(text("SELECT username FROM users ORDER BY username")).scalars())
    engine.dispose()
    admins = [n for n in names if n.startswith("c") and n.endswith("admin")]
    clerks = [n for n in names if n[0] in "cx" and "clerk" in n]
    desks = [Desk(n, ADMIN_MIX) for n in admins[: count // 4]]
    desks += [Desk(n, CLERK_MIX) for n in clerks[: count - len(desks)]]
    return desks


def sign_in(base: str, desks: list[Desk]) -> None:
    def one(desk: Desk) -> None:
        answer = desk.http.post(
            f"{base}/api/v1/auth/login",
            json={"username": desk.username, "password": DEMO_PASSWORD},
            timeout=60,
        )
        answer.raise_for_status()
        desk.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        if desk.mix is CLERK_MIX:
            for box in ("pending", "done"):
                page = desk.http.get(f"{base}/api/v1/inbox", params={"box": box}, timeout=30)
                desk.application_ids += [row["id"] for row in page.json()["items"]]
        else:
            page = desk.http.get(f"{base}/api/v1/users", params={"page_size": 50}, timeout=30)
            desk.user_ids = [row["id"] for row in page.json()["items"]]

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, desks))


def request_of(desk: Desk, kind: str, rng: random.Random) -> tuple[str, dict[str, object]]:
    if kind == "inbox + counts":
        return "/inbox", {"page_size": 50, "with_counts": "true"}
    if kind == "application" and desk.application_ids:
        return f"/applications/{rng.choice(desk.application_ids)}", {}
    if kind == "application":  # a clerk with nothing on file looks at the inbox instead
        return "/inbox", {"page_size": 50, "with_counts": "true"}
    if kind == "user" and desk.user_ids:
        return f"/users/{rng.choice(desk.user_ids)}", {}
    return LISTS.get(kind, "/users"), {"page_size": 50}


def schedule(
    desks: list[Desk], seconds: float, seed: int
) -> list[tuple[float, Desk, str, str, dict[str, object]]]:
    """(offset, desk, kind, path, params), each desk a Poisson stream of RATE_PER_DESK."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible load, not a secret
    plan = []
    for desk in desks:
        at = rng.expovariate(RATE_PER_DESK)
        kinds, weights = zip(*desk.mix, strict=True)
        while at < seconds:
            kind = rng.choices(kinds, weights)[0]
            path, params = request_of(desk, kind, rng)
            plan.append((at, desk, kind, path, params))
            at += rng.expovariate(RATE_PER_DESK)
    plan.sort(key=lambda item: item[0])
    return plan


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Outcome:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, ms: float, status: int | str) -> None:
        with self.lock:
            self.latencies[kind].append(ms)
            if status != 200:
                self.errors[f"{kind}: {status}"] += 1


def drive(base: str, plan: list[tuple[float, Desk, str, str, dict[str, object]]]) -> Outcome:
    """Fire every request at its scheduled time; time it from that schedule."""
    outcome = Outcome()

    def fire(due: float, desk: Desk, kind: str, path: str, params: dict[str, object]) -> None:
        try:
            status: int | str = desk.http.get(f"{base}/api/v1{path}", params=params, timeout=30)
            status = status.status_code
        except requests.RequestException as error:
            status = type(error).__name__
        outcome.add(kind, (time.perf_counter() - due) * 1000, status)

    with ThreadPoolExecutor(max_workers=len({id(d) for _, d, *_ in plan}) * 2) as pool:
        start = time.perf_counter() + 0.2
        for offset, desk, kind, path, params in plan:
            due = start + offset
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            pool.submit(fire, due, desk, kind, path, params)
    return outcome


def report(outcome: Outcome, seconds: float, cpu: float | None) -> None:
    every = sorted(ms for samples in outcome.latencies.values() for ms in samples)
    for kind, samples in sorted(outcome.latencies.items()):
        ordered = sorted(samples)
        print(
            f"  {kind:<16} {len(ordered):5d} req   p50 {statistics.median(ordered):6.2f} ms"
            f"   p95 {percentile(ordered, 0.95):6.2f} ms   p99 {percentile(ordered, 0.99):6.2f} ms"
        )
    p95 = percentile(every, 0.95)
    print(
        f"  {'all':<16} {len(every):5d} req   p50 {statistics.median(every):6.2f} ms"
        f"   p95 {p95:6.2f} ms   p99 {percentile(every, 0.99):6.2f} ms"
        f"   ({len(every) / seconds:.1f} req/s)"
    )
    if cpu is not None:
        print(f"  server CPU {cpu * 1000 / len(every):.2f} ms per request")
    failed = sum(outcome.errors.values())
    if failed:
        print(f"  errors: {failed} — " + ", ".join(f"{k} ×{n}" for k, n in outcome.errors.items()))
    verdict = "met" if p95 <= P95_TARGET_MS and not failed else "MISSED"
    print(
        f"  50 desks at 1 request/s: p95 {p95:.2f} ms (target ≤ {P95_TARGET_MS:.0f} ms): {verdict}"
    )


def run(url: str, kind: str, *, desks: int, seconds: float, seed: int, reuse: bool) -> None:
    print(f"[{kind}]")
    if not reuse:
        build(url)
    team = desk_accounts(url, desks)
    server = EmbeddedServer(url, env=SERVER_ENV)
    base = server.start()
    try:
        sign_in(base, team)
        warm = schedule(team, 3.0, seed + 1)
        drive(base, warm)  # connections opened, statements prepared, principals cached
        plan = schedule(team, seconds, seed)
        pid = server.process.pid if server.process else 0
        before = cpu_seconds(pid)
        outcome = drive(base, plan)
        after = cpu_seconds(pid)
        cpu = after - before if after is not None and before is not None else None
        report(outcome, seconds, cpu)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("both", "postgresql", "sqlite"), default="both")
    parser.add_argument("--desks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--database",
        metavar="URL",
        help="use an existing demo database (sgss-server demo-data) instead of building one",
    )
    options = parser.parse_args()
    common = {"desks": options.desks, "seconds": options.seconds, "seed": options.seed}
    if options.database:
        kind = "sqlite" if options.database.startswith("sqlite") else "postgresql"
        run(options.database, kind, reuse=True, **common)
        return
    for backend in ("postgresql", "sqlite"):
        if options.backend in ("both", backend):
            with scratch_database(backend) as url:
                if url is not None:
                    run(url, backend, reuse=False, **common)


if __name__ == "__main__":
    main()
