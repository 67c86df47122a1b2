"""Reading an imported file (xlsx or csv) within bounds, and reporting its problems briefly.

An import is all rows or none, and it runs inside a request: a file must not be able to take the
server's memory or the answer's size with it. So the file's size is checked before it is read, an
xlsx's unpacked size from its zip directory before a byte of XML is parsed (a 700 KB "zip bomb"
unpacks to hundreds of MB), the number of rows before they are validated, and an error answer lists
the first ``ERRORS_SHOWN`` problems and says how many there are.
"""

import csv
import gc
import io
import logging
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from python_calamine import CalamineWorkbook

from server.services.errors import AppError
from shared.errors import ErrorCode

ERRORS_SHOWN = 100
_EXCEL = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
_ZIPPED = {".xlsx", ".xlsm", ".xlsb", ".ods"}
_MB = 1024 * 1024


@dataclass(frozen=True)
class ImportLimits:
    """``Settings.import_max_*``; the defaults are the settings' defaults."""

    max_bytes: int = 10 * _MB
    max_unpacked_bytes: int = 50 * _MB
    max_rows: int = 100_000
    max_columns: int = 256


def invalid(errors: list[dict[str, Any]], message: str | None = None) -> AppError:
    """IMPORT_INVALID with the first ``ERRORS_SHOWN`` problems; the message gives the total."""
    if message is None:
        message = f"导入文件有{len(errors)}处错误，未导入任何数据"
        if len(errors) > ERRORS_SHOWN:
            message += f"（以下列出前{ERRORS_SHOWN}处）"
    return AppError(ErrorCode.IMPORT_INVALID, message, errors[:ERRORS_SHOWN])


log = logging.getLogger("sgss.import")

_DAMAGED = "文件已损坏或不是 Excel 工作簿，请用 Excel 打开后另存为 .xlsx 再导入"
_CSV_ROW = "单元格内容过长或引号不成对，请检查后重新导入"


def _refuse(message: str) -> AppError:
    return AppError(ErrorCode.IMPORT_INVALID, message)


def _unreadable(message: str, err: Exception) -> AppError:
    """A file the reader gave up on: the clerk gets a Chinese sentence; the reader's own words
    (English, from zipfile, csv or calamine) go to the server log for whoever looks into it."""
    log.info("import file refused: %s (%s: %s)", message, type(err).__name__, err)
    return _refuse(message)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without the BOM Excel writes) or GBK, read as its superset GB 18030."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _refuse("CSV 文件编码无法识别，请保存为 UTF-8") from None


def _check_unpacked(path: Path | IO[bytes], limit: int) -> None:
    """The sizes the zip directory declares; the reader never unpacks more than declared."""
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError) as err:
        raise _unreadable(f"无法读取 Excel 文件：{_DAMAGED}", err) from None
    if unpacked > limit:
        raise _refuse(f"Excel 文件解压后超过 {limit / _MB:g} MB，请分批导入")


def _too_many(limits: ImportLimits) -> AppError:
    return _refuse(f"导入文件超过 {limits.max_rows} 行，请分批导入")


def read_sheet(path: Path, limits: ImportLimits) -> list[list[Any]]:
    """The first sheet (or the csv) as rows of cell values, header included."""
    if path.stat().st_size > limits.max_bytes:
        raise _refuse(f"导入文件超过 {limits.max_bytes / _MB:g} MB，请分批导入")
    suffix = path.suffix.lower()
    rows: list[list[Any]] = []
    if suffix == ".csv":
        try:
            for row in csv.reader(io.StringIO(_decode(path.read_bytes()), newline="")):
                rows.append(row)
                if len(rows) > limits.max_rows + 1:
                    raise _too_many(limits)
        except csv.Error as err:  # a field over the reader's limit, a stray quote …
            raise _unreadable(f"CSV 文件第{len(rows) + 1}行无法读取：{_CSV_ROW}", err) from None
        return _without_nul(rows)
    if suffix not in _EXCEL:
        raise _refuse("只能导入 .xlsx 或 .csv 文件")
    if suffix in _ZIPPED:
        _check_unpacked(path, limits.max_unpacked_bytes)
    try:
        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        if sheet.height > limits.max_rows + 1:
            raise _too_many(limits)
        rows = sheet.to_python()
    except AppError:
        raise
    except Exception as err:  # calamine raises its own error types for damaged files
        raise _unreadable(f"无法读取 Excel 文件：{_DAMAGED}", err) from None
    return _without_nul(rows)


def open_xlsx(data: bytes, limits: ImportLimits) -> CalamineWorkbook:
    """An uploaded xlsx held in memory, after the same size and unpacked-size checks as
    ``read_sheet``; its sheets are read with ``sheet_grid``."""
    if len(data) > limits.max_bytes:
        raise _refuse(f"导入文件超过 {limits.max_bytes / _MB:g} MB，请分批导入")
    _check_unpacked(io.BytesIO(data), limits.max_unpacked_bytes)
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as err:
        raise _unreadable(f"无法读取 Excel 文件：{_DAMAGED}", err) from None


def sheet_grid(
    workbook: CalamineWorkbook, name: str, limits: ImportLimits, *, nrows: int | None = None
) -> list[list[Any]]:
    """The sheet ``name`` as a rectangle anchored at A1, so that ``grid[r][c]`` is the cell the
    clerk sees at row ``r + 1``, column ``c + 1`` (calamine otherwise starts at the first cell in
    use). Rows and columns are bounded before any cell is materialised: the extent comes from the
    sheet's dimension, and a single stray cell at XFD1048576 would otherwise pad a huge grid."""
    try:
        sheet = workbook.get_sheet_by_name(name)
        last_row, last_column = sheet.end or (0, 0)
        if nrows is None and last_row + 1 > limits.max_rows + 1:
            raise _too_many(limits)
        if last_column + 1 > limits.max_columns:
            raise _refuse(f"工作表“{name}”超过 {limits.max_columns} 列，请删除多余的列")
        rows = sheet.to_python(skip_empty_area=False, nrows=nrows)
    except AppError:
        raise
    except Exception as err:
        raise _unreadable(f"无法读取工作表“{name}”：{_DAMAGED}", err) from None
    return _without_nul(rows)


def _without_nul(rows: list[list[Any]]) -> list[list[Any]]:
    """Refuse a file with a NUL character in a cell: no field means it, and PostgreSQL cannot
    store it. The cells of a row are scanned plainly (a 20,000-row score sheet is 120,000
    cells); the column is counted only for the message."""
    for number, row in enumerate(rows, start=1):
        for value in row:
            if isinstance(value, str) and "\x00" in value:
                column = next(i for i, v in enumerate(row, start=1) if v is value)
                raise _refuse(f"第{number}行第{column}列含有空字符（\\0），请删除后重新导入")
    return rows


_pauses = 0
_pauses_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector held off for one bulk step of an import.

    Reading and writing 20,000 rows makes some hundred thousand objects (the rows of the grid,
    the parsed rows, the stored rows) that all live to the end of the step. Each batch of them
    counts towards the collector's thresholds, so it runs full collections over the whole
    server's heap part-way through the step, finds nothing to free, and costs the score import
    a quarter of its time (bench/scores.py). Reference counting still frees everything that is
    not in a cycle; cycles left meanwhile by other threads wait until the step ends.

    Nested and concurrent pauses are counted: the last one to end switches the collector back
    on. If it was off before (a process that collects by itself, as the desk client does),
    it is left alone."""
    global _pauses  # noqa: PLW0603 - one count for the process, as the collector is
    with _pauses_lock:
        owned = _pauses > 0 or gc.isenabled()
        if owned:
            _pauses += 1
            gc.disable()
    try:
        yield
    finally:
        if owned:
            with _pauses_lock:
                _pauses -= 1
                if _pauses == 0:
                    gc.enable()
