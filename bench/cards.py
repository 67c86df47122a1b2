"""保安员证 cards: `make bench-cards` (`python -m bench.cards [--cards N] [--workers W]`).

Two figures from issue 16, each over distinct faces (a new QR payload and portrait per card, so
no cache helps):
- card PDFs (front + back, embedded font, vector QR): cards/s as one file per card in one
  process and in ``--workers`` processes, and as one batch file holding every card (what a
  制证名单 print run sends), target ≥ 200 cards/s;
- card face → Evolis panels (both sides painted by Qt at 300 dpi, dithered, in the printer's
  line layout): ms per card, target ≤ 50 ms.
Medians of three runs; the machine is shared, so compare figures taken in the same minute.
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


def _pdfs(seeds: range) -> int:
    from server.services.documents.card_pdf import card_pdf

    return sum(len(card_pdf(_FACES[seed])) for seed in seeds)


def batch_rate(cards: int) -> float:
    """One PDF holding every card (a 制证名单 batch), one process."""
    from server.services.documents.card_pdf import cards_pdf

    start = time.perf_counter()
    cards_pdf(_FACES[:cards])
    return cards / (time.perf_counter() - start)


def pdf_rate(cards: int, workers: int) -> float:
    """One PDF per card, in ``workers`` processes (forked before the clock starts)."""
    if workers <= 1:
        start = time.perf_counter()
        _pdfs(range(cards))
        return cards / (time.perf_counter() - start)
    step = -(-cards // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_pdfs, [range(0)] * workers))  # start the workers
        start = time.perf_counter()
        list(pool.map(_pdfs, [range(i, min(i + step, cards)) for i in range(0, cards, step)]))
        return cards / (time.perf_counter() - start)


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
    one = statistics.median(pdf_rate(args.cards, 1) for _ in range(args.runs))
    many = statistics.median(pdf_rate(args.cards, args.workers) for _ in range(args.runs))
    batch = statistics.median(batch_rate(args.cards) for _ in range(args.runs))
    panels = statistics.median(panel_ms(args.panel_cards) for _ in range(args.runs))
    print(
        f"card PDFs, {args.cards} cards, 1 process:      {one:7.1f} cards/s "
        f"({'ok' if one >= PDF_TARGET else 'below'} target {PDF_TARGET:.0f})"
    )
    print(
        f"card PDFs, {args.cards} cards, {args.workers} processes:    {many:7.1f} cards/s "
        f"({'ok' if many >= PDF_TARGET else 'below'} target {PDF_TARGET:.0f})"
    )
    print(
        f"one batch PDF, {args.cards} cards, 1 process:  {batch:7.1f} cards/s "
        f"({'ok' if batch >= PDF_TARGET else 'below'} target {PDF_TARGET:.0f})"
    )
    print(
        f"face → K panels (front + back):     {panels:7.1f} ms/card "
        f"({'ok' if panels <= PANEL_TARGET_MS else 'above'} target {PANEL_TARGET_MS:.0f})"
    )


if __name__ == "__main__":
    main()
