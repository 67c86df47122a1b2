"""Score import, read + validate: `make bench-scores` (`python -m bench.scores [--rows N]`).

Writes a filled score template of N candidates (default 20,000; two subjects, one in twenty
absent, a third of the scores typed as text and some as full-width digits, as clerks do), then,
taking turns in the same run, reads and validates it R times each way:

- calamine: ``read_scores`` as the import endpoint runs it (limits, zip check, stamp, every rule,
  and the content digest that tells a re-import);
- openpyxl: the same file loaded with openpyxl (read-only, values only) into the same grids and
  validated by the same ``validate``, so only the reader differs;
- validate only: the rules on grids already in memory (no digest), to show what reading costs.

Prints the median time and rows/s of each. Grading and persisting are not wired yet; the issue's
target for the whole path (read + validate + grade + persist) is 40,000 rows/s, so read +
validate has to stay well above it.
"""

import argparse
import io
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

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
from shared.idnumber import check_char

TARGET = 40_000
KEY = b"bench-scores-key-0123456789abcdef"


def _id_number(n: int) -> str:
    first17 = f"330106{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first17 + check_char(first17)


def build(rows: int) -> tuple[SheetSpec, bytes]:
    subjects = (Subject("theory", "理论", Decimal(100)), Subject("practice", "实操", Decimal(100)))
    candidates = tuple(
        Candidate(f"2026{n:07d}", f"考生{n:05d}", _id_number(n)) for n in range(rows)
    )
    spec = SheetSpec(1, "2026年第一期保安员资格考试", subjects, candidates)
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
    print(f"  median of {args.runs} runs; CPU time is the steadier figure on a shared machine")
    for name in ways:
        median, median_cpu = statistics.median(wall[name]), statistics.median(cpu[name])
        print(
            f"  {name:<31} wall {median * 1000:7.1f} ms {args.rows / median:>9,.0f} rows/s"
            f"   CPU {median_cpu * 1000:7.1f} ms {args.rows / median_cpu:>9,.0f} rows/s"
        )
    print(f"  target for the whole path (read + validate + grade + persist): {TARGET:,} rows/s")


if __name__ == "__main__":
    main()
