"""An xlsx export of a list page, run the same way everywhere: off the UI thread behind the busy
indicator (whose 取消 stops it between pages), the rows written so far in the page's status line,
then where the file went and, for a capped export, how many rows were left out."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

from client.jobs.job import Job
from client.session import Session
from client.views.status import StatusLabel


def run_export(
    session: Session,
    status: StatusLabel,
    parent: Any,
    job: Job,
    path: Path,
    exported: Callable[[Path], None],
) -> None:
    """``job`` answers the rows written, or (written, total) when it stops at a cap."""

    def progress(written: int) -> None:
        status.info(f"正在导出…已写入 {written} 条")

    def done(result: int | tuple[int, int]) -> None:
        written, total = result if isinstance(result, tuple) else (result, result)
        cut = f"（共 {total} 条，只导出前 {written} 条）" if written < total else ""
        status.info(f"已导出 {written} 条到 {path}{cut}")
        exported(path)

    status.info("正在导出…")
    session.run(job, done, status.error, parent=parent, on_progress=progress)
