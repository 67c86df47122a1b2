"""What the stand-in submits when a test or the demo does not say: a valid 保安服务公司设立许可
(``company_licence``) application of a unit in ``region_code``, as ``POST /api/v1/applications``
accepts it, and a small real PDF as its material."""

from typing import Any

from shared.idnumber import check_char

DEFAULT_REGION = "330106"
"""西湖区, the county of the demo's walk-through (its clerks ``x330106clerk1``… have the inbox)."""
DEFAULT_BUSINESS_TYPE = "company_licence"


def id_number(region_code: str, birth: str, sequence: str) -> str:
    """A resident id number that passes GB 11643's check character."""
    first17 = f"{region_code}{birth}{sequence}"
    return first17 + check_char(first17)


def sample_application(region_code: str = DEFAULT_REGION, *, serial: int = 1) -> dict[str, Any]:
    """The ``ApplicationCreate`` fields (without ``external_ref``) of a company licence."""
    unit = f"杭州外网申请{serial}号保安服务有限公司"
    return {
        "business_type": DEFAULT_BUSINESS_TYPE,
        "applicant_kind": "unit",
        "applicant_name": unit,
        "applicant_code": f"91{region_code}MA2B3C4D5E",
        "region_code": region_code,
        "form": {
            "unit_name": unit,
            "credit_code": f"91{region_code}MA2B3C4D5E",
            "address": "杭州市西湖区文三路1号",
            "phone": "0571-88000000",
            "registered_capital_wan": 1000,
            "service_scope": "门卫、巡逻",
            "staff_planned": 50,
        },
        "persons": [
            {
                "role": "legal_rep",
                "name": "张外网",
                "id_number": id_number(region_code, "19800101", "011"),
                "mobile": "13800000001",
            },
            {
                "role": "principal",
                "name": "李外网",
                "id_number": id_number(region_code, "19820202", "021"),
                "mobile": "13800000002",
            },
        ],
    }


def sample_pdf(text: str = "SGSS portal sample material") -> bytes:
    """A one-page PDF that every reader opens: header, four objects, a correct xref table."""
    safe = "".join(c for c in text if 32 <= ord(c) < 127 and c not in "()\\")
    stream = f"BT /F1 18 Tf 72 720 Td ({safe}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
