"""A plausible 保安员证 face for tests and benchmarks: a drawn placeholder portrait (no real face)
and a QR text as long as the signed payload (~177 characters of base64url)."""

import base64
import random
from datetime import UTC, date, datetime
from io import BytesIO

from PIL import Image, ImageDraw

from shared.card_layout import CardFace
from shared.schemas.certificates import CertificatePublic


def portrait(seed: int = 0, fmt: str = "JPEG") -> bytes:
    rng = random.Random(seed)
    image = Image.new("RGB", (300, 400), (200, 214, 230))
    draw = ImageDraw.Draw(image)
    skin = (226 - rng.randrange(30), 190 - rng.randrange(30), 160 - rng.randrange(30))
    draw.ellipse((95, 70, 205, 200), fill=skin)
    draw.ellipse((90, 55, 210, 120), fill=(30, 30, 35))
    draw.ellipse((60, 215, 240, 300), fill=(40, 60, 90))
    draw.rectangle((60, 255, 240, 400), fill=(40, 60, 90))
    out = BytesIO()
    image.save(out, fmt, quality=85) if fmt == "JPEG" else image.save(out, fmt)
    return out.getvalue()


def qr_payload(seed: int = 0) -> str:
    raw = random.Random(seed).randbytes(130)
    return "SGSS1." + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def face(seed: int = 0, *, photo: bool = True) -> CardFace:
    return CardFace(
        name="欧阳明轩",
        gender="男",
        birth_date=date(1990, 3, 7),
        id_number="330106199003070031",
        certificate_number=f"浙2026{seed:08d}",
        issuing_authority="杭州市公安局西湖区分局",
        issue_date=date(2026, 11, 24),
        photo=portrait(seed) if photo else None,
        qr_text=qr_payload(seed),
    )


def sample_certificate(*, printed: bool = False) -> CertificatePublic:
    """A card as the list shows it, for dialogs built without a server."""
    return CertificatePublic(
        id=1,
        number="浙202600000001",
        edition=1,
        holder_name="欧阳明轩",
        gender="male",
        gender_label="男",
        birth_date=date(1990, 3, 7),
        id_number="330106********0031",
        photo_ref="0" * 64,
        has_photo=True,
        issuing_authority="杭州市公安局西湖区分局",
        org_id=1,
        region_code="330106",
        application_id=None,
        issued_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
        expires_on=None,
        status="active",
        status_label="有效",
        status_changed_at=None,
        key_id="0a1b2c3d",
        payload=qr_payload(1),
        supersedes_id=None,
        version=1,
        print_state="printed" if printed else "not_printed",
        print_state_label="已打印" if printed else "未打印",
        printed=printed,
        printed_at=None,
    )
