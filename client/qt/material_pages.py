"""A material's bytes as page images, for the viewer: one image for a JPEG/PNG scan, one per page
for a PDF (rendered with PDFium). Pure and thread-safe, so it runs in a worker: big scans never
stall the UI thread."""

from PySide6.QtGui import QImage

from shared.approvals import MaterialKind

PDF_DPI = 110  # sharp enough to read a scanned form at 100 %, small enough to hold 50 pages


class UnreadableMaterialError(ValueError):
    """The bytes are not the image or PDF the server said they were."""


def page_images(data: bytes, media_type: str) -> list[QImage]:
    if media_type == MaterialKind.pdf.value:
        return _pdf_pages(data)
    image = QImage.fromData(data)
    if image.isNull():
        raise UnreadableMaterialError("图片无法显示：文件已损坏或格式不受支持")
    return [image]


def _pdf_pages(data: bytes) -> list[QImage]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as err:
        raise UnreadableMaterialError("PDF 无法打开：文件已损坏或已加密") from err
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=PDF_DPI / 72)
                try:
                    pil = bitmap.to_pil().convert("RGB")
                finally:
                    bitmap.close()
            finally:
                page.close()
            raw = pil.tobytes()
            image = QImage(raw, pil.width, pil.height, pil.width * 3, QImage.Format.Format_RGB888)
            pages.append(image.copy())  # own the pixels: ``raw`` goes away with this frame
    finally:
        # PDFium is not thread-safe: every object is closed here, on the worker that made it,
        # never left to a finaliser that the garbage collector may run on another thread
        document.close()
    return pages
