"""A recognisable test card for the K panel, drawn with rectangles only (no fonts in drivers/).

What a technician checks on the printed card, which is landscape with the magnetic stripe (if
any) at the back:
- a frame just inside the card edge: all four sides visible = the image is not shifted;
- L-shaped marks in every corner;
- a large filled square at the TOP-LEFT, a small filled square at the TOP-RIGHT and three short
  bars at the BOTTOM-LEFT (bottom-right stays empty): the three marks differ, so any rotation or
  mirror of the image is visible at a glance — if they are not where named, ``landscape_rect``
  (panel.py) needs a flip;
- a grid of 1-dot lines every 40 dots (head elements and line feed are even);
- vertical stripes 1, 2, 4 and 8 dots wide (fine detail and resin contrast).
"""

from __future__ import annotations

from drivers.evolis.panel import DOTS_PER_LINE, LINES, Panel, landscape_rect

CARD_WIDTH = LINES  # landscape: 1016 dots across
CARD_HEIGHT = DOTS_PER_LINE  # 648 dots down

MARGIN = 16  # printers leave a small unprintable band at the edges
FRAME = 6
BIG_SQUARE = 120
SMALL_SQUARE = 60


def _ink(panel: Panel, x: int, y: int, width: int, height: int) -> None:
    panel.set_rect(*landscape_rect(x, y, width, height))


def build_test_card() -> Panel:
    """The K panel of the test card (see the module docstring for what each mark proves)."""
    panel = Panel.blank()
    right = CARD_WIDTH - MARGIN
    bottom = CARD_HEIGHT - MARGIN
    inner_w = right - MARGIN
    inner_h = bottom - MARGIN

    # frame
    _ink(panel, MARGIN, MARGIN, inner_w, FRAME)
    _ink(panel, MARGIN, bottom - FRAME, inner_w, FRAME)
    _ink(panel, MARGIN, MARGIN, FRAME, inner_h)
    _ink(panel, right - FRAME, MARGIN, FRAME, inner_h)

    # corner marks: an L of two 40-dot arms, 12 dots inside the frame
    arm, thick, gap = 40, 4, MARGIN + FRAME + 12
    for cx, dx in ((gap, 1), (CARD_WIDTH - gap, -1)):
        for cy, dy in ((gap, 1), (CARD_HEIGHT - gap, -1)):
            x0 = cx if dx > 0 else cx - arm
            y0 = cy if dy > 0 else cy - arm
            _ink(panel, x0, cy if dy > 0 else cy - thick, arm, thick)
            _ink(panel, cx if dx > 0 else cx - thick, y0, thick, arm)

    # orientation marks
    mark = gap + 60
    _ink(panel, mark, mark, BIG_SQUARE, BIG_SQUARE)  # top-left
    _ink(panel, CARD_WIDTH - mark - SMALL_SQUARE, mark, SMALL_SQUARE, SMALL_SQUARE)  # top-right
    for i in range(3):  # bottom-left: three bars
        _ink(panel, mark, CARD_HEIGHT - mark - 12 - i * 24, 90, 12)

    # grid in the middle
    gx0, gy0, gw, gh = 360, 120, 320, 240
    for x in range(gx0, gx0 + gw + 1, 40):
        _ink(panel, x, gy0, 1, gh + 1)
    for y in range(gy0, gy0 + gh + 1, 40):
        _ink(panel, gx0, y, gw + 1, 1)

    # stripes under the grid: 1, 2, 4 and 8 dots wide, equal gaps
    x = 360
    for width in (1, 2, 4, 8):
        for _ in range(6):
            _ink(panel, x, 400, width, 100)
            x += 2 * width
        x += 16
    return panel
