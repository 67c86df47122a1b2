"""Scans for the demo applications: a one-page application form (PDF) and a business-licence-like
image (PNG), drawn with the shipped CJK font, so the review dialog's materials viewer has real
pages to show. They say 演示材料 on their face: nobody should mistake them for documents."""

import io
from functools import cache
from importlib import resources

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from server.services.documents.pdfbase import font
from shared.schemas.applications import ApplicationCreate
from shared.schemas.forms import FORMS


def application_form_pdf(body: ApplicationCreate) -> bytes:
    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4)
    width, height = A4
    pdf.setFont(font(), 20)
    pdf.drawCentredString(width / 2, height - 90, f"{body.business_type.label}申请表")
    pdf.setFont(font(), 11)
    y = height - 140
    titles = FORMS[body.business_type].model_fields
    lines = [("申请人", body.applicant_name), ("证照号码", body.applicant_code)]
    lines += [(titles[k].title or k, str(v)) for k, v in body.form.items() if k in titles]
    lines += [(p.role.label, f"{p.name}  {p.id_number}") for p in body.persons]
    for label, value in lines:
        pdf.rect(60, y - 8, width - 120, 24)
        pdf.drawString(70, y, label)
        pdf.drawString(200, y, value[:48])
        y -= 24
    pdf.setFont(font(), 9)
    pdf.drawString(60, 60, "演示材料（由演示数据生成，非真实申请）")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


@cache
def _pil_font(size: int) -> ImageFont.FreeTypeFont:
    entry = resources.files("resources").joinpath("fonts", "wqy-microhei.ttc")
    with resources.as_file(entry) as path:
        return ImageFont.truetype(str(path), size, index=0)


def licence_png(unit_name: str, code: str) -> bytes:
    image = Image.new("RGB", (900, 620), "#fbf7ee")
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 879, 599), outline="#b22222", width=6)
    draw.text((450, 90), "营 业 执 照", fill="#b22222", font=_pil_font(52), anchor="mm")
    rows = [("名称", unit_name), ("统一社会信用代码", code), ("类型", "有限责任公司")]
    for n, (label, value) in enumerate(rows):
        draw.text((80, 200 + n * 70), f"{label}：{value}", fill="#222222", font=_pil_font(26))
    draw.text((450, 560), "演示材料", fill="#999999", font=_pil_font(22), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
