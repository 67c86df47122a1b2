"""内外网数据同步 throughput and lag: `make bench-sync` (`python -m bench.sync [--records N]
[--big-every K] [--big-mb M] [--pings P] [--interval S] [--backend sqlite|postgresql|both]`).

1. **Full cycle.** The portal stand-in (``tools.sync_portal``) files N applications (default
   10,000), each with the stand-in's one-page PDF and, every K-th (100), one more material of M
   MiB (1; random bytes behind a PDF header, so nothing compresses). Then, until every record is
   in, the file ferry runs as in production: the portal exports, signs and writes its next
   bundle (at most 500 records) into ``in/``; one real ``run_once`` of the server reads, verifies
   and applies it (each application through intake, its materials through the store) and
   numbers, signs and writes its answers (``application.accepted`` and ``.progress``, two per
   application) into ``out/``; the portal reads those (which acks them next time). Printed:
   records/s through the whole loop and through the server's cycles alone, with wall and CPU
   (this process: the server's cycle and the stand-in each measured apart; on PostgreSQL the
   database's own work shows in wall time only).
2. **Lag.** ``sgss-server worker run --interval S`` (default 1, the least it takes) in a
   subprocess with ``SGSS_SYNC_TRANSPORT=files``; P times (20), at a random moment, one
   outbound record is committed (``outbox.emit`` of a ``bench.ping`` record, as a business
   change does in its transaction) and ``out/`` is polled until a bundle holding it is there;
   then the ferry carries it to the stand-in, which acks it. Printed: median and p95 of commit →
   bundle written, and the worker's CPU.

PostgreSQL: ``SGSS_BENCH_PG_URL`` (default the tests' server at 127.0.0.1; a throw-away
database is created and dropped).
"""

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from server.clock import SystemClock
from server.db.migrate import upgrade_to_head
from server.db.session import create_db_engine, create_session_factory
from server.db.sync_models import SyncState
from server.services import audit, bootstrap
from server.services.orgs import add_org
from server.services.sync import outbox
from server.services.sync.cycle import run_once
from server.services.sync.keys import add_peer_key, init_node_key
from server.services.sync.transports.files import FolderTransport
from shared.enums import OrgType
from tools.sync_portal import Material, Portal
from tools.sync_portal.samples import sample_pdf

PG_URL = os.environ.get(
    "SGSS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def database(kind: str) -> Iterator[str | None]:
    """The URL of a fresh database (SQLite in a temporary folder, or a throw-away PostgreSQL
    database); None when PostgreSQL cannot be reached."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"sgss_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        print(f"  PostgreSQL not reachable ({type(err).__name__}): its figures are skipped")
        admin.dispose()
        yield None
        return
    try:
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class Site:
    """One intranet (database, data folder, sync folder) and the portal stand-in, each
    trusting the other's key, with the county (西湖区) the stand-in files for."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        upgrade_to_head(self.engine)
        self.sessions = create_session_factory(self.engine)
        self.data_dir = folder / "data"
        self.sync_dir = folder / "sync"
        for sub in ("in", "out"):
            (self.sync_dir / sub).mkdir(parents=True)
        self.clock = SystemClock()
        self.portal = Portal(folder / "portal")
        now = self.clock.now()
        with self.sessions() as session:
            root = bootstrap.init_db(self.engine, session, now=now, province="330000")
            city = add_org(
                session, now=now, parent=root, name="杭州市公安局",
                type=OrgType.city_bureau, region_code="330100",
            )  # fmt: skip
            add_org(
                session, now=now, parent=city, name="西湖区分局",
                type=OrgType.county_bureau, region_code="330106",
            )  # fmt: skip
            key, _ = init_node_key(session, self.data_dir, now=now, actor=audit.CLI_ACTOR)
            add_peer_key(session, self.portal.public_key, now=now, actor=audit.CLI_ACTOR)
            session.commit()
        self.portal.add_peer(key.public_text)
        self.transport = FolderTransport(self.sync_dir, self.clock)

    def state(self) -> SyncState:
        with self.sessions() as session:
            found = session.get(SyncState, "portal")
            assert found is not None
            return found

    def close(self) -> None:
        self.engine.dispose()


def big_material(n: int, mib: int) -> Material:
    rng = random.Random(n)  # noqa: S311 - filler bytes
    body = b"%PDF-1.4\n%" + rng.randbytes(mib * 2**20 - 16) + b"\n%%EOF\n"
    return Material("附件材料", f"附件{n}.pdf", body)


def full_cycle(site: Site, records: int, big_every: int, big_mb: int) -> None:
    started = time.perf_counter()
    small = Material("申请书", "申请书.pdf", sample_pdf("申请书"))
    for n in range(1, records + 1):
        materials = [small, big_material(n, big_mb)] if n % big_every == 0 else [small]
        site.portal.submit_application(materials=materials)
    filed = time.perf_counter() - started
    print(f"  stand-in files {records} applications: {filed:.1f} s (not counted below)")

    server_wall = server_cpu = portal_wall = portal_cpu = 0.0
    cycles = 0
    loop_started = time.perf_counter()
    while True:
        wall, cpu = time.perf_counter(), time.process_time()
        written = site.portal.write_into(site.sync_dir / "in")  # export, sign, write
        portal_wall += time.perf_counter() - wall
        portal_cpu += time.process_time() - cpu
        wall, cpu = time.perf_counter(), time.process_time()
        summary = run_once(  # read, verify, apply; number, export, sign, write the answers
            site.engine, site.transport, data_dir=site.data_dir, clock=site.clock
        )
        server_wall += time.perf_counter() - wall
        server_cpu += time.process_time() - cpu
        cycles += 1
        if summary.error:
            raise SystemExit(f"  cycle failed: {summary.error}")
        wall, cpu = time.perf_counter(), time.process_time()
        _take_out(site)
        portal_wall += time.perf_counter() - wall
        portal_cpu += time.process_time() - cpu
        if site.state().applied_upto >= records:
            break
        if written is None:
            raise SystemExit("  the stand-in has nothing to send, yet records are missing")
    loop = time.perf_counter() - loop_started
    state = site.state()
    assert state.applied_upto == records, state.applied_upto
    print(
        f"  full cycle: {records} records in {cycles} cycles, {loop:.1f} s wall: "
        f"{records / loop:,.0f} records/s end to end"
    )
    print(
        f"    server (read, verify, apply; answers numbered, signed, written: "
        f"{state.last_seq}): {server_wall:.1f} s wall, {server_cpu:.1f} s CPU, "
        f"{records / server_wall:,.0f} records/s"
    )
    print(
        f"    stand-in (export, sign, write; read the answers): {portal_wall:.1f} s wall, "
        f"{portal_cpu:.1f} s CPU"
    )


def _take_out(site: Site) -> None:
    """The ferry's way back: the server's bundles from ``out/`` to the stand-in (whose next
    bundle, written at the top of the loop, carries the ack)."""
    for path in sorted((site.sync_dir / "out").glob("*.sgssb")):
        site.portal.receive_bundle(path.read_bytes(), path.name)
        path.unlink()


def bundle_holding(folder: Path, record_id: str, seen: dict[str, int]) -> bool:
    """Whether a bundle in ``folder`` (read only when new or changed) holds the record."""
    for path in folder.glob("*.sgssb"):
        try:
            stamp = path.stat().st_mtime_ns
            if seen.get(path.name) == stamp:
                continue
            seen[path.name] = stamp
            with zipfile.ZipFile(path) as archive:
                if record_id.encode() in archive.read("records.ndjson"):
                    return True
        except (OSError, zipfile.BadZipFile, KeyError):
            continue  # replaced while we looked: read it again next time
    return False


def lag(site: Site, pings: int, interval: float) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SGSS_DATABASE_URL": site.url,
        "SGSS_DATA_DIR": str(site.data_dir),
        "SGSS_SYNC_TRANSPORT": "files",
        "SGSS_SYNC_DIR": str(site.sync_dir),
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker = subprocess.Popen(
        [sys.executable, "-c", "from server.cli.main import main; main()",
         "worker", "run", "--interval", f"{interval:g}"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    rng = random.Random(17)  # noqa: S311 - when to commit
    lags: list[float] = []
    try:
        first = site.state().last_cycle_at
        deadline = time.monotonic() + 120
        while site.state().last_cycle_at == first:  # the worker's first pass is done
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("  the worker did not start")
            time.sleep(0.05)
        started = time.perf_counter()
        for n in range(pings):
            time.sleep(rng.random() * interval)
            seen: dict[str, int] = {}
            with site.sessions() as session:
                row = outbox.emit(session, "bench.ping", {"n": n}, at=datetime.now(UTC))
                session.commit()
                record_id = row.record_id
            committed = time.perf_counter()
            while not bundle_holding(site.sync_dir / "out", record_id, seen):
                if time.perf_counter() - committed > 60:
                    raise SystemExit("  no bundle within 60 s")
                time.sleep(0.002)
            lags.append(time.perf_counter() - committed)
            site.portal.step_files(site.sync_dir)  # carried across and acked
        elapsed = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ordered = sorted(lags)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    print(
        f"  lag commit → bundle in out/ (worker --interval {interval:g}, {pings} commits): "
        f"median {statistics.median(lags) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )
    print(f"    worker process: {cpu:.1f} s CPU over {elapsed:.1f} s (start-up included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--big-every", type=int, default=100)
    parser.add_argument("--big-mb", type=int, default=1)
    parser.add_argument("--pings", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    kinds = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    print(
        f"sync: {args.records} applications, {args.big_mb} MiB more every {args.big_every}th, "
        f"file ferry; CPU is this process's"
    )
    for kind in kinds:
        print(f"[{kind}]")
        with database(kind) as url, tempfile.TemporaryDirectory() as folder:
            if url is None:
                continue
            site = Site(url, Path(folder))
            try:
                wall, cpu = time.perf_counter(), time.process_time()
                full_cycle(site, args.records, args.big_every, args.big_mb)
                lag(site, args.pings, args.interval)
                print(
                    f"  total: {time.perf_counter() - wall:.1f} s wall, "
                    f"{time.process_time() - cpu:.1f} s CPU (this process)"
                )
            finally:
                site.close()


if __name__ == "__main__":
    main()
