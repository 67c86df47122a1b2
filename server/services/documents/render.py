"""PDF bytes from ``sheets`` dataclasses: pure functions, no database, no permissions.

``certificate_pdf`` draws one A4 landscape page: the particulars shrink to fit their frame
(``KeepInFrame``) so a long service scope never spills onto a second page. ``application_pdf``
flows over as many A4 portrait pages as the history needs, repeating each table's header row.
"""

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Frame,
    KeepInFrame,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from server.services.documents.pdfbase import (
    chinese_date,
    draw_qr,
    font,
    local_minute,
    style,
)
from server.services.documents.sheets import ApplicationSheet, Certificate

CRIMSON = colors.HexColor("#9B1C1C")
INK = colors.HexColor("#1F2937")
RULE = colors.HexColor("#9CA3AF")
SHADE = colors.HexColor("#F3F4F6")


def _p(text: str, st: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), st)


# --- certificate -------------------------------------------------------------------------------


def certificate_pdf(data: Certificate) -> bytes:
    buffer = BytesIO()
    width, height = landscape(A4)
    # initialFontName: the PDF names no font it does not embed (reportlab starts in Helvetica)
    canvas = Canvas(buffer, pagesize=(width, height), pageCompression=1, initialFontName=font())
    canvas.setTitle(f"{data.title} {data.number}")
    canvas.setAuthor(data.authority)
    canvas.setSubject(data.matter)
    _frame(canvas, width, height)
    name = font()
    canvas.setFillColor(CRIMSON)
    canvas.setFont(name, 34)
    canvas.drawCentredString(width / 2, height - 100, data.title, charSpace=10)
    canvas.setFillColor(INK)
    canvas.setFont(name, 12)
    canvas.drawCentredString(width / 2, height - 128, f"编号：{data.number}")

    label = style("label", 12, textColor=INK)
    value = style("value", 12, textColor=INK)
    rows = [
        [_p("持证单位（人）", label), _p(data.holder_name, value)],
        [_p("事项", label), _p(data.matter, value)],
        *[[_p(title, label), _p(text, value)] for title, text in data.particulars],
    ]
    table = Table(rows, colWidths=[130, width - 2 * 90 - 130])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font()),
                ("GRID", (0, 0), (-1, -1), 0.6, RULE),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    top, bottom = height - 150, 175
    frame = Frame(90, bottom, width - 180, top - bottom, showBoundary=0, topPadding=0)
    frame.addFromList([KeepInFrame(width - 180, top - bottom, [table], mode="shrink")], canvas)

    qr_size = 92
    draw_qr(canvas, data.qr_payload, 86, 66, qr_size)
    canvas.setFont(name, 9)
    canvas.setFillColor(INK)
    canvas.drawString(86 + qr_size + 8, 66 + 50, "扫描二维码核验真伪")
    canvas.drawString(86 + qr_size + 8, 66 + 34, f"核验码：{data.verification_code}")
    canvas.setFont(name, 14)
    right = width - 96
    canvas.drawRightString(right, 120, f"发证机关：{data.authority}")
    canvas.drawRightString(right, 96, f"发证日期：{chinese_date(data.issued_on)}")
    canvas.setFont(name, 9)
    canvas.setFillColor(RULE)
    canvas.drawRightString(right, 72, "（加盖发证机关印章后有效）")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _frame(canvas: Canvas, width: float, height: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(CRIMSON)
    canvas.setLineWidth(3)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setLineWidth(0.8)
    canvas.rect(32, 32, width - 64, height - 64)
    canvas.restoreState()


# --- application with progress -----------------------------------------------------------------

_BODY = 9


def application_pdf(sheet: ApplicationSheet) -> bytes:
    buffer = BytesIO()
    margin = 16 * mm
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin + 4 * mm,
        title=f"申请材料及审批进度 {sheet.number}",
        author=sheet.printed_by,
        subject=sheet.business_type,
        initialFontName=font(),  # the PDF then names no font it does not embed
    )
    width = A4[0] - 2 * margin
    story: list[Flowable] = [
        _p("申请材料及审批进度", style("title", 18, alignment=TA_CENTER, spaceAfter=4)),
        _p(
            f"{sheet.business_type}　申请编号：{sheet.number}　状态：{sheet.status}",
            style("subtitle", 10, alignment=TA_CENTER, textColor=INK, spaceAfter=8),
        ),
        *_section("一、申请信息"),
        _pairs(sheet.header, width),
        *_section("二、涉及人员"),
        _grid(
            ["角色", "姓名", "身份证号", "手机号"],
            [[p.role, p.name, p.id_number, p.mobile] for p in sheet.persons],
            [0.2, 0.2, 0.35, 0.25],
            width,
        ),
        *_section("三、申请表"),
        _pairs(sheet.form, width, columns=1),
        *_section("四、申请材料"),
        _grid(
            ["序号", "轮次", "材料名称", "文件名", "上传时间"],
            [
                [str(n), str(m.round), m.title, m.filename, local_minute(m.uploaded_at)]
                for n, m in enumerate(sheet.materials, 1)
            ],
            [0.08, 0.08, 0.3, 0.32, 0.22],
            width,
            empty="（未上传材料）",
        ),
        *_section("五、审批进度"),
        _grid(
            ["时间", "审批人［角色］", "环节", "操作", "意见"],
            [[local_minute(e.at), e.actor, e.step_name, e.action, e.opinion] for e in sheet.log],
            [0.18, 0.22, 0.12, 0.13, 0.35],
            width,
        ),
        Spacer(1, 6),
        _pending(sheet.pending),
        *[_p(note, style("note", 8.5, textColor=RULE)) for note in sheet.notes],
    ]
    footer = f"打印人：{sheet.printed_by}　打印时间：{local_minute(sheet.printed_at)}"

    def decorate(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font(), 8)
        canvas.setFillColor(RULE)
        canvas.drawString(margin, margin - 2 * mm, f"{sheet.number}　{footer}")
        canvas.drawRightString(A4[0] - margin, margin - 2 * mm, f"第 {document.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


def _section(title: str) -> list[Flowable]:
    return [
        Spacer(1, 8),
        _p(title, style(f"h-{title}", 12, textColor=CRIMSON, spaceAfter=4)),
    ]


def _table_style(header: bool) -> TableStyle:
    commands: list[tuple[object, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font()),
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    return TableStyle(commands)


def _grid(
    headings: list[str],
    rows: list[list[str]],
    shares: list[float],
    width: float,
    *,
    empty: str = "（无）",
) -> Table:
    head = style("th", _BODY, textColor=INK)
    cell = style("td", _BODY)
    body = rows or [[empty] + [""] * (len(headings) - 1)]
    data = [[_p(h, head) for h in headings]] + [[_p(v, cell) for v in row] for row in body]
    table = Table(data, colWidths=[width * s for s in shares], repeatRows=1)
    table.setStyle(_table_style(header=True))
    if not rows:
        table.setStyle(TableStyle([("SPAN", (0, 1), (-1, 1))]))
    return table


def _pairs(pairs: list[tuple[str, str]], width: float, *, columns: int = 2) -> Table:
    """Label/value pairs, ``columns`` pairs per row, labels shaded."""
    label = style("pair-label", _BODY, textColor=INK)
    value = style("pair-value", _BODY)
    cells = [[_p(k, label), _p(v, value)] for k, v in pairs]
    cells = cells or [[_p("（无）", value), _p("", value)]]
    rows = []
    for start in range(0, len(cells), columns):
        row = [c for pair in cells[start : start + columns] for c in pair]
        rows.append(row + [""] * (2 * columns - len(row)))
    label_width = 0.19 * width if columns == 2 else 0.25 * width
    value_width = (width - columns * label_width) / columns
    table = Table(rows, colWidths=[label_width, value_width] * columns)
    table.setStyle(_table_style(header=False))
    table.setStyle(
        TableStyle([("BACKGROUND", (c, 0), (c, -1), SHADE) for c in range(0, 2 * columns, 2)])
    )
    return table


def _pending(pending: list[str]) -> Paragraph:
    if not pending:
        return _p("当前待审批：无（审批已结束或已退回申请人）", style("pending-none", 10))
    names = "、".join(escape(name) for name in pending)
    return Paragraph(
        f'当前待审批：<font color="#{CRIMSON.hexval()[2:]}">{names}</font>',
        style("pending", 10),
    )
