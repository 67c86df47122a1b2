"""保安员证 cards: `make bench-cards` (`python -m bench.cards [--cards N] [--workers W]`).

Two figures from issue 16, each over distinct faces (a new QR payload and portrait per card, so
no cache helps):
- card PDFs (front + back, embedded font, vector QR): cards/s as one file per card in one
  process and in ``--workers`` processes, and as one batch file holding every card (what a
  制证名单 print run sends), target ≥ 200 cards/s;
- card face → Evolis panels (both sides painted by Qt at 300 dpi, dithered, in the printer's
  line layout): ms per card, target ≤ 50 ms.
Medians of three runs. Each PDF line also gives the CPU time a card (summed over the processes):
on a shared machine compare those, or wall figures taken in the same minute.
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from shared.card_layout import CardFace
from tests.card_faces import face

PDF_TARGET = 200.0  # cards/s
PANEL_TARGET_MS = 50.0

# the faces of a run, each with its own payload and portrait, made before any clock starts; forked
# workers inherit them (a portrait is a JPEG drawn and encoded by Pillow: not what is measured)
_FACES: list[CardFace] = []


def prepare(cards: int) -> None:
    _FACES[:] = [face(seed) for seed in range(cards)]


def _pdfs(seeds: range) -> float:
    """One PDF per card; the CPU seconds this process spent on them."""
    from server.services.documents.card_pdf import card_pdf

    start = time.process_time()
    for seed in seeds:
        card_pdf(_FACES[seed])
    return time.process_time() - start


def batch_rate(cards: int) -> tuple[float, float]:
    """One PDF holding every card (a 制证名单 batch), one process: cards/s and CPU ms a card."""
    from server.services.documents.card_pdf import cards_pdf

    start, cpu = time.perf_counter(), time.process_time()
    cards_pdf(_FACES[:cards])
    return cards / (time.perf_counter() - start), (time.process_time() - cpu) / cards * 1000


def pdf_rate(cards: int, workers: int) -> tuple[float, float]:
    """One PDF per card, in ``workers`` processes (forked before the clock starts): cards/s and
    CPU ms a card, summed over the processes."""
    if workers <= 1:
        start = time.perf_counter()
        cpu = _pdfs(range(cards))
        return cards / (time.perf_counter() - start), cpu / cards * 1000
    step = -(-cards // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_pdfs, [range(0)] * workers))  # start the workers
        start = time.perf_counter()
        cpus = list(
            pool.map(_pdfs, [range(i, min(i + step, cards)) for i in range(0, cards, step)])
        )
        return cards / (time.perf_counter() - start), sum(cpus) / cards * 1000


def _medians(figures: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures)


def panel_ms(cards: int) -> float:
    from PySide6.QtGui import QGuiApplication

    from client.devices.card_print import face_panels

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    faces = [face(10_000 + seed) for seed in range(cards)]
    face_panels(faces[0])
    start = time.perf_counter()
    for card in faces:
        face_panels(card)
    return (time.perf_counter() - start) / cards * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1000)
    parser.add_argument("--panel-cards", type=int, default=100)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    prepare(args.cards)
    runs = range(args.runs)
    rows = (
        (
            f"card PDFs, {args.cards} cards, 1 process:",
            _medians([pdf_rate(args.cards, 1) for _ in runs]),
        ),
        (
            f"card PDFs, {args.cards} cards, {args.workers} processes:",
            _medians([pdf_rate(args.cards, args.workers) for _ in runs]),
        ),
        (
            f"one batch PDF, {args.cards} cards, 1 process:",
            _medians([batch_rate(args.cards) for _ in runs]),
        ),
    )
    panels = statistics.median(panel_ms(args.panel_cards) for _ in runs)
    for label, (rate, cpu_ms) in rows:
        print(
            f"{label:42} {rate:7.1f} cards/s ({'ok' if rate >= PDF_TARGET else 'below'} target "
            f"{PDF_TARGET:.0f}); {cpu_ms:5.2f} ms CPU a card"
        )
    print(
        f"{'face → K panels (front + back):':42} {panels:7.1f} ms/card "
        f"({'ok' if panels <= PANEL_TARGET_MS else 'above'} target {PANEL_TARGET_MS:.0f})"
    )


if __name__ == "__main__":
    main()
