"""Placeholder 证件照 for demo enrolments: a drawn head-and-shoulders silhouette on the light-blue
background of a Chinese ID photo, 358 × 441 px (a 1-inch photo at 300 dpi), JPEG.

No faces, real or generated: only flat shapes (hair, head, neck, shoulders), varied per person
from a seed (clothes colour, hair shade and length, skin tone, proportions), with 演示照片 in a
corner so nobody mistakes one for a person's photo.
"""

import io
import random
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 358, 441
BACKGROUND = (146, 196, 238)  # a light 证件照 blue
CLOTHES = [(30, 38, 56), (44, 62, 96), (238, 238, 232), (70, 72, 78), (120, 30, 40), (34, 80, 60)]
HAIR = [(20, 18, 18), (38, 30, 26), (58, 44, 34), (80, 62, 48)]
SKIN = [(236, 200, 170), (224, 186, 150), (210, 170, 135), (244, 212, 186)]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    entry = resources.files("resources").joinpath("fonts", "wqy-microhei.ttc")
    with resources.as_file(entry) as path:
        return ImageFont.truetype(str(path), size, index=0)


def portrait_jpeg(seed: str | int) -> bytes:
    """One placeholder portrait; the same seed gives the same picture."""
    rng = random.Random(f"portrait:{seed}")
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    clothes, hair, skin = rng.choice(CLOTHES), rng.choice(HAIR), rng.choice(SKIN)
    cx = WIDTH // 2 + rng.randrange(-6, 7)
    head_w, head_h = rng.randrange(124, 146), rng.randrange(158, 178)
    head_top = rng.randrange(70, 92)
    long_hair = rng.random() < 0.35

    # shoulders: a wide rounded trapezoid rising to the neck
    shoulder_y = head_top + head_h + rng.randrange(30, 46)
    span = rng.randrange(150, 172)
    draw.rounded_rectangle((cx - span, shoulder_y, cx + span, HEIGHT + 60), radius=70, fill=clothes)
    if long_hair:  # hair falling behind the shoulders
        draw.rounded_rectangle(
            (cx - head_w // 2 - 14, head_top + 30, cx + head_w // 2 + 14, shoulder_y + 50),
            radius=40,
            fill=hair,
        )
    # neck, then a collar of the same cloth a shade lighter
    neck_w = head_w // 3
    draw.rectangle(
        (cx - neck_w // 2, head_top + head_h - 20, cx + neck_w // 2, shoulder_y + 8), fill=skin
    )
    collar = tuple(min(255, c + 28) for c in clothes)
    draw.polygon(
        [(cx - neck_w, shoulder_y), (cx, shoulder_y + 46), (cx + neck_w, shoulder_y)], fill=collar
    )
    draw.polygon(
        [
            (cx - neck_w // 2, shoulder_y + 2),
            (cx, shoulder_y + 30),
            (cx + neck_w // 2, shoulder_y + 2),
        ],
        fill=skin,
    )
    # head and hair cap
    box = (cx - head_w // 2, head_top, cx + head_w // 2, head_top + head_h)
    draw.ellipse(box, fill=skin)
    cap = (box[0] - 6, head_top - 12, box[2] + 6, head_top + int(head_h * 0.62))
    draw.chord(cap, 180, 360, fill=hair)
    draw.pieslice(cap, 170, 200, fill=hair)
    draw.pieslice(cap, 340, 370, fill=hair)
    # ears
    ear_y = head_top + head_h // 2 - 8
    for side in (-1, 1):
        ex = cx + side * head_w // 2
        draw.ellipse((ex - 10, ear_y - 16, ex + 10, ear_y + 16), fill=skin)

    draw.text(
        (WIDTH - 10, HEIGHT - 10), "演示照片", fill=(225, 235, 245), font=_font(16), anchor="rb"
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
