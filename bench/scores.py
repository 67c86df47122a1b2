"""Score import, read + validate + grade + persist: `make bench-scores` (`python -m bench.scores`
[--rows N] [--runs R] [--no-db] [--pg-fillfactor F]).

Writes a filled score template of N candidates (default 20,000; two subjects, one in twenty
absent, a third of the scores typed as text and some as full-width digits, as clerks do), then,
taking turns in the same run, reads and validates it R times each way:

- calamine: ``read_scores`` as the import endpoint runs it (limits, zip check, stamp, every rule,
  and the content digest that tells a re-import);
- openpyxl: the same file loaded with openpyxl (read-only, values only) into the same grids and
  validated by the same ``validate``, so only the reader differs;
- validate only: the rules on grids already in memory (no digest), to show what reading costs.

- whole path on SQLite and on PostgreSQL: read + validate (calamine) + grade + persist, as
  the import endpoint runs it (``scores.lock``, ``scores.persist``: the stored scores read in
  one query, every row graded and compared once per distinct set of marks, the changed rows
  written in one statement — PostgreSQL ``UPDATE … FROM json_to_recordset`` of one document,
  SQLite one driver executemany — and one commit), into a database holding the exam and its N
  candidates; the scores are cleared between runs, so every run writes every row;
- the same whole path with openpyxl as the reader, on each database.

Prints the median wall and CPU time and rows/s of each. The issue's target for the whole path is
40,000 rows/s. CPU is this process only: on PostgreSQL the server's own work (updating 20,000
rows) shows in wall time and, when the server runs on this machine, as "server CPU" (its
backend process, from /proc). ``exam_candidates`` keeps half of each page free on PostgreSQL
(fillfactor 50, migration 0014), so most of the first import's updates and all of the later
runs' stay within their page (HOT: no new entry in any of the table's five indexes); full pages
made every update write a new entry in each index. ``--pg-fillfactor F`` adds a third database,
the same PostgreSQL one with ``exam_candidates`` rewritten at fillfactor F instead (100: full
pages, as before 0014), to compare.

PostgreSQL: ``SGSS_BENCH_PG_URL`` (default the tests' server at 127.0.0.1, a throw-away database
is created and dropped); ``--no-db`` skips the database figures.
"""

import argparse
import io
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, Table, create_engine, select, text, update
from sqlalchemy.orm import Session

from server.db.approval_models import Application, WorkflowDefinition
from server.db.exam_models import Exam, ExamCandidate, PassRuleRow
from server.db.session import create_db_engine, create_session_factory
from server.services import bootstrap
from server.services.exams import scheduling, scores
from server.services.scoresheets import (
    Candidate,
    Marks,
    ScoreImport,
    SheetSpec,
    Subject,
    read_scores,
    validate,
    write_template,
)
from server.services.scoresheets.spec import CHECK_SHEET, SCORES_SHEET
from shared.exams import ExamStatus
from shared.idnumber import check_char

TARGET = 40_000
KEY = b"bench-scores-key-0123456789abcdef"


def _id_number(n: int) -> str:
    first17 = f"330106{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + check_char(first17)


SUBJECTS = (Subject("theory", "理论", Decimal(100)), Subject("practice", "实操", Decimal(100)))
EXAM_NAME = "2026年第一期保安员资格考试"


def build(rows: int) -> tuple[SheetSpec, bytes]:
    candidates = tuple(
        Candidate(f"2026{n:07d}", f"考生{n:05d}", _id_number(n)) for n in range(rows)
    )
    spec = SheetSpec(1, EXAM_NAME, SUBJECTS, candidates)
    subjects = SUBJECTS
    rng = random.Random(16)  # noqa: S311 - made-up scores
    filled = {
        c.admission_number: Marks(True, {})
        if n % 20 == 0
        else Marks(False, {s.key: Decimal(rng.randint(30, 100)) for s in subjects})
        for n, c in enumerate(candidates)
    }
    plain = write_template(spec, KEY, filled=filled)
    # retype some cells as a clerk would: numbers stored as text, full-width digits, spaces
    book = load_workbook(io.BytesIO(plain))
    sheet = book[SCORES_SHEET]
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    for number, row in enumerate(sheet.iter_rows(min_row=2, min_col=4, max_col=5)):
        for cell in row:
            if cell.value is None:
                continue
            if number % 3 == 0:
                cell.value = f" {cell.value}.0 "
            elif number % 7 == 0:
                cell.value = str(cell.value).translate(full_width)
    buffer = io.BytesIO()
    book.save(buffer)
    return spec, buffer.getvalue()


def openpyxl_grids(data: bytes) -> tuple[list[list[Any]], list[list[Any]]]:
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    grids = [
        [list(r) for r in book[name].iter_rows(values_only=True)]
        for name in (SCORES_SHEET, CHECK_SHEET)
    ]
    book.close()
    return grids[0], grids[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-db", action="store_true", help="read + validate only")
    parser.add_argument(
        "--pg-fillfactor",
        type=int,
        metavar="F",
        help="also PostgreSQL with exam_candidates rewritten at this fillfactor (10-100)",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    spec, data = build(args.rows)
    print(
        f"score sheet: {args.rows} rows, {len(data) / 1024:.0f} KB, "
        f"written in {time.perf_counter() - start:.1f} s"
    )

    def with_calamine() -> ScoreImport:
        result = read_scores(data, spec, KEY)
        assert result.digest  # what the caller compares to tell a re-import (a no-op)
        return result

    def with_openpyxl() -> ScoreImport:
        grid, stamp = openpyxl_grids(data)
        result = validate(grid, stamp, spec, KEY)
        assert result.digest
        return result

    calamine_book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    grid = calamine_book.get_sheet_by_name(SCORES_SHEET).to_python(skip_empty_area=False)
    stamp = calamine_book.get_sheet_by_name(CHECK_SHEET).to_python(skip_empty_area=False)

    ways: dict[str, Callable[[], Any]] = {
        "calamine read + validate": with_calamine,
        "openpyxl read + validate": with_openpyxl,
        "validate only (grid in memory)": lambda: validate(grid, stamp, spec, KEY),
    }
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.runs):
        for name, way in ways.items():
            began, began_cpu = time.perf_counter(), time.process_time()
            result = way()
            cpu[name].append(time.process_time() - began_cpu)
            wall[name].append(time.perf_counter() - began)
            assert result.ok and len(result.rows) == args.rows, result.problems[:3]
    server: dict[str, list[float]] = {}
    if not args.no_db:
        whole_path(spec, data, args.runs, wall, cpu, server, fillfactor=args.pg_fillfactor)
    print(f"  median of {args.runs} runs; CPU time is the steadier figure on a shared machine")
    for name, times in wall.items():
        median, median_cpu = statistics.median(times), statistics.median(cpu[name])
        line = (
            f"  {name:<48} wall {median * 1000:7.1f} ms {args.rows / median:>9,.0f} rows/s"
            f"   CPU {median_cpu * 1000:7.1f} ms {args.rows / median_cpu:>9,.0f} rows/s"
        )
        if name in server:
            line += f"   server CPU {statistics.median(server[name]) * 1000:5.0f} ms"
        print(line)
    print(f"  target for the whole path (read + validate + grade + persist): {TARGET:,} rows/s")
    print("  (CPU is this process only: the database server's own work shows in wall time and,")
    print("  when the server runs on this machine, as server CPU)")


# --- the whole path, into a database --------------------------------------------------------

PG_URL = os.environ.get(
    "SGSS_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@contextmanager
def database(kind: str) -> Iterator[Engine | None]:
    """A fresh database migrated to head (SQLite in a temporary folder, or a throw-away
    PostgreSQL database); None when PostgreSQL cannot be reached."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            engine = create_db_engine(f"sqlite:///{folder}/bench.db")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    try:
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = f"sgss_bench_{uuid.uuid4().hex[:10]}"
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        print(f"  PostgreSQL not reachable ({type(err).__name__}): its figures are skipped")
        yield None
        return
    engine = create_db_engine(PG_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def seed(engine: Engine, spec: SheetSpec) -> int:
    """init-db, then one published exam holding the sheet's candidates (bulk inserts)."""
    now = datetime.now(UTC)
    with create_session_factory(engine)() as session:
        root = bootstrap.init_db(engine, session, now=now, province="330000")
        definition = session.scalar(select(WorkflowDefinition.id).limit(1))
        rule = session.scalar(select(PassRuleRow).where(PassRuleRow.key == "theory_practice_60"))
        assert definition is not None and rule is not None
        exam = Exam(
            name=spec.exam_name,
            address="考场",
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=1),
            seats=len(spec.candidates),
            org_id=root.id,
            pass_rule_id=rule.id,
            pass_rule=rule.content,
            status=ExamStatus.published.value,
            published_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(exam)
        session.flush()
        common = {
            "business_type": "guard_exam_enrolment",
            "applicant_kind": "person",
            "region_code": "330106",
            "org_id": root.id,
            "definition_id": definition,
            "round": 1,
            "status": "approved",
            "form": {},
            "source": "intranet",
            "submitted_at": now,
            "round_started_at": now,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        applications = cast(Table, Application.__table__)
        session.execute(
            applications.insert(),
            [
                {
                    **common,
                    "number": f"BENCH{n:08d}",
                    "applicant_name": c.name,
                    "applicant_code": c.id_number,
                }
                for n, c in enumerate(spec.candidates)
            ],
        )
        ids = dict(session.execute(select(Application.number, Application.id)).all())
        seats = cast(Table, ExamCandidate.__table__)
        session.execute(
            seats.insert(),
            [
                {
                    "exam_id": exam.id,
                    "application_id": ids[f"BENCH{n:08d}"],
                    "admission_number": c.admission_number,
                    "is_open": True,
                    "absent": False,
                    "scores_locked": False,
                    "added_at": now,
                }
                for n, c in enumerate(spec.candidates)
            ],
        )
        session.commit()
        return exam.id


class Backend:
    """CPU time of the PostgreSQL server process serving a session, from /proc when the server
    runs on this machine (else None): on a busy machine wall time says little of the server's
    own work. Read once when made and again on ``cpu()``; clock ticks, 10 ms apart."""

    def __init__(self, session: Session) -> None:
        self.pid = session.scalar(text("SELECT pg_backend_pid()"))
        self.start = self._ticks()

    def _ticks(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def cpu(self) -> float | None:
        now = self._ticks()
        return None if now is None or self.start is None else now - self.start


def rewrite_with_fillfactor(engine: Engine, fillfactor: int) -> None:
    """``exam_candidates`` of the throw-away database rewritten with free room in each page."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"ALTER TABLE exam_candidates SET (fillfactor = {int(fillfactor)})"))
        conn.execute(text("VACUUM FULL exam_candidates"))


def whole_path(
    spec: SheetSpec,
    data: bytes,
    runs: int,
    wall: dict[str, list[float]],
    cpu: dict[str, list[float]],
    server: dict[str, list[float]],
    *,
    fillfactor: int | None = None,
) -> None:
    kinds = [("sqlite", "sqlite"), ("postgresql", "postgresql")]
    if fillfactor is not None:
        kinds.append(("postgresql", f"postgresql, fillfactor {fillfactor}"))
    for kind, label in kinds:
        with database(kind) as engine:
            if engine is None:
                continue
            exam_id = seed(engine, spec)
            assert exam_id == spec.exam_id, "the sheet's stamp names exam 1"
            if label != kind:
                rewrite_with_fillfactor(engine, cast(int, fillfactor))
            factory = create_session_factory(engine)
            ways: dict[str, Callable[[], ScoreImport]] = {
                f"whole path, calamine, {label}": lambda: read_scores(data, spec, KEY),
                f"whole path, openpyxl, {label}": lambda: validate(
                    *openpyxl_grids(data), spec, KEY
                ),
            }
            for name in ways:
                wall.setdefault(name, [])
                cpu.setdefault(name, [])
            for _ in range(runs):
                for name, read in ways.items():
                    with factory() as session:
                        session.execute(
                            update(cast(Table, ExamCandidate.__table__)).values(
                                scores=None, result=None, absent=False
                            )
                        )
                        session.commit()
                    with factory() as session:
                        backend = Backend(session) if kind == "postgresql" else None
                        began, began_cpu = time.perf_counter(), time.process_time()
                        result = read()
                        assert result.ok, result.problems[:3]
                        exam = session.get(Exam, exam_id)
                        assert exam is not None
                        grader = scores.Grader(scheduling.exam_rule(exam))
                        scores.lock(session, exam)
                        planned = scores.persist(
                            session, exam, result, grader, now=datetime.now(UTC), user_id=None
                        )
                        session.commit()
                        cpu[name].append(time.process_time() - began_cpu)
                        wall[name].append(time.perf_counter() - began)
                        if backend is not None and backend.cpu() is not None:
                            server.setdefault(name, []).append(backend.cpu() or 0.0)
                    assert planned.counts["written"] == len(spec.candidates), planned.counts


if __name__ == "__main__":
    main()
