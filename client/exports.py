"""Lists exported to xlsx, with the columns and text the clerk saw on screen."""

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from client.files import replacing
from client.models.table import Column


def write_xlsx(path: Path, title: str, columns: list[Column], rows: Iterable[Any]) -> int:
    """Write one sheet; returns the number of data rows. Text cells stay text (ID numbers!).

    The rows are read to the end before anything touches ``path``, and the workbook is saved
    beside it and moved into place in one step: a cancelled or failed export (the rows'
    iterator raises) leaves no file, and an existing file at ``path`` stays whole until the
    new one replaces it."""
    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    sheet.append([c.title for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        sheet.append([c.text(row) for c in columns])
        count += 1
    for index, column in enumerate(columns, start=1):
        width = max(len(column.title) * 2, 10)
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width + 6, 40)
    sheet.freeze_panes = "A2"
    with replacing(path) as partial:
        book.save(partial)
    return count
