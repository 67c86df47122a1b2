"""Start-up of the desk: `make bench-startup` (`python -m bench.startup [--runs N]`).

Measures, in fresh processes, the wall time from launch to the first window being shown and
the event loop running: a bare PySide6 window beside the desk's sign-in window (``client.main``
exactly as ``sgss-desk`` runs it, with empty preferences in a scratch directory, so nothing
signs in). Runs alternate between the two; prints the median of each and the ratio against the
target (the desk at most twice a bare window). Offscreen platform: no display needed.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 2.0

# both children print "shown" from the first turn of their event loop, after show()
BARE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication(sys.argv[:1])
window = QWidget()
window.setWindowTitle("bare")
window.show()
def shown():
    print("shown", window.isVisible(), flush=True)
    app.exit(0)
QTimer.singleShot(0, shown)
sys.exit(app.exec())
"""

DESK = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
exec_ = QApplication.exec
def shown():
    visible = [w.objectName() for w in QApplication.topLevelWidgets() if w.isVisible()]
    print("shown", "signInWindow" in visible, flush=True)
    QApplication.instance().exit(0)
def exec_and_report(*_args):
    QTimer.singleShot(0, shown)
    return exec_()
QApplication.exec = exec_and_report
from client.main import main
main(["--server", "http://127.0.0.1:9"])
"""


def launch(script: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    elapsed = (time.perf_counter() - start) * 1000
    if "shown True" not in out.stdout:
        raise SystemExit(f"the window was not shown:\n{out.stdout}\n{out.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.startup", description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sgss-startup-") as scratch:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(Path(scratch) / "config"),
            "HOME": scratch,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])
            ),
        }
        launch(BARE, env)  # warm the file cache once for both
        launch(DESK, env)
        bare, desk = [], []
        for _ in range(args.runs):
            bare.append(launch(BARE, env))
            desk.append(launch(DESK, env))
    b, d = statistics.median(bare), statistics.median(desk)
    ratio = d / b
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"time to first window shown, median of {args.runs} runs each (offscreen)")
    print(f"  bare PySide6 window   {b:7.0f} ms")
    print(f"  desk sign-in window   {d:7.0f} ms")
    print(f"  ratio {ratio:.2f}x  ({verdict} the target of {TARGET_RATIO:.1f}x)")


if __name__ == "__main__":
    main()
