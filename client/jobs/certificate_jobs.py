"""The 保安员证 desk's work: the list and its export, a card's history, its face for the
preview and the printers, the three print paths, and telling the server what a print came to.

Server calls are ``ApiJob``s on the server's queue. A print to a device is a job on that device's
queue (``device(port)``); its ``stop`` is the clerk's 取消, polled by the driver between
commands. The OS printer's job paints on the QPrinter the print dialog set up (QPainter may
paint on a QPrinter in a worker thread); the UI leaves that printer alone until the job ends.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from client.files import write_atomically
from client.jobs.api_jobs import _every_page
from client.jobs.job import LOCAL, ApiJob, Job, device

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from client.api import ApiClient
    from client.devices.settings import DeviceSettings
    from shared.card_layout import CardFace
    from shared.schemas.certificates import (
        CardFacePublic,
        CertificateCancellation,
        CertificateCorrection,
        CertificatePublic,
        CertificateReissue,
        CertificateRevocation,
    )


class _Query(ApiJob):
    def __init__(self, **params: Any) -> None:
        super().__init__()
        self.params = {k: v for k, v in params.items() if v is not None}


class LoadCertificates(_Query):
    def call(self, api: ApiClient) -> Any:
        return api.certificates(**self.params)


class LoadExamChoices(ApiJob):
    """The exams a clerk may filter the cards by (newest first; the latest hundred)."""

    def call(self, api: ApiClient) -> Any:
        return api.exams(page=1, page_size=100).items


class ExportCertificates(ApiJob):
    """Every card matching ``query``, page by page, into one xlsx of the columns on screen;
    cancelled, it stops between pages and writes nothing. Answers the rows written."""

    def __init__(self, path: Any, columns: list[Any], query: dict[str, Any]) -> None:
        super().__init__()
        self.path, self.columns = path, columns
        self.query = {k: v for k, v in query.items() if v is not None}
        self.total = 0

    def call(self, api: ApiClient) -> int:
        from client.exports import write_xlsx

        def fetch(page: int, size: int) -> Any:
            return api.certificates(**{**self.query, "page": page, "page_size": size})

        return write_xlsx(self.path, "保安员资格证", self.columns, _every_page(self, fetch))


class _OnCertificate(ApiJob):
    def __init__(self, certificate_id: int) -> None:
        super().__init__()
        self.certificate_id = certificate_id


class LoadCertificate(_OnCertificate):
    def call(self, api: ApiClient) -> CertificatePublic:
        return api.certificate(self.certificate_id)


class LoadCertificateHistory(_OnCertificate):
    def call(self, api: ApiClient) -> Any:
        return api.certificate_history(self.certificate_id)


class PrepareCard(_OnCertificate):
    """The card as it stands now on the server and its face with the photo:
    (CertificatePublic, CardFacePublic, CardFace) — what the preview shows and printers get."""

    def call(self, api: ApiClient) -> tuple[CertificatePublic, CardFacePublic, CardFace]:
        from shared.card_layout import CardFace

        card = api.certificate(self.certificate_id)
        shown = api.card_face(self.certificate_id)
        self.stop_if_cancelled()
        photo = api.certificate_photo(self.certificate_id) if shown.has_photo else None
        face = CardFace(
            name=shown.name,
            gender=shown.gender_label,
            birth_date=shown.birth_date,
            id_number=shown.id_number,
            certificate_number=shown.certificate_number,
            issuing_authority=shown.issuing_authority,
            issue_date=shown.issue_date,
            photo=photo,
            qr_text=shown.qr_text,
        )
        return card, shown, face


class SaveCardPdf(_OnCertificate):
    """打印到PDF: the server's PDF of the card, written to ``path``; cancelled before the
    answer arrives, nothing is written. Answers the bytes written."""

    def __init__(self, certificate_id: int, path: Path) -> None:
        super().__init__(certificate_id)
        self.path = Path(path)

    def call(self, api: ApiClient) -> int:
        self.report(("正在从服务器获取证件PDF", 0.2))
        data = api.card_pdf(self.certificate_id)
        self.stop_if_cancelled()
        self.report(("正在保存文件", 0.8))
        write_atomically(self.path, data)
        self.report(("完成", 1.0))
        return len(data)


class PrintOnCardPrinter(Job):
    """制证机: the face through the Evolis direct path (K + O on both sides) on the configured
    port. ``stop`` (取消) is polled between the printer's commands: the half-printed card goes to
    the reject box and the job fails with the clerk's message. Progress: (label, fraction)."""

    def __init__(self, settings: DeviceSettings, face: CardFace) -> None:
        super().__init__()
        self.settings, self.face = settings, face
        self.resource = device(settings.printer_port)
        self.stop = threading.Event()

    def run(self) -> str:
        from client.devices import diagnostics
        from client.devices.card_print import print_face

        self.report(("正在连接制证机", 0.0))
        with diagnostics.open_printer(self.settings) as printer:
            print_face(
                printer,
                self.face,
                cancel=self.stop.is_set,
                on_progress=lambda label, fraction: self.report((label, fraction)),
            )
        return "证件已打印并送出"


class PrintOnSystemPrinter(Job):
    """系统打印机: front and back painted on ``printer`` (CR80, colour), as the print dialog
    set it up. Answers the pages sent."""

    resource = LOCAL

    def __init__(self, printer: QPrinter, face: CardFace) -> None:
        super().__init__()
        self.printer, self.face = printer, face
        self.stop = threading.Event()

    def run(self) -> int:
        from client.devices.certificate_printing import print_face_on

        self.report(("正在发送到打印机", 0.3))
        pages = print_face_on(self.printer, self.face)
        self.report(("完成", 1.0))
        return pages


class RecordPrinted(_OnCertificate):
    def __init__(self, certificate_id: int, channel: str) -> None:
        super().__init__(certificate_id)
        self.channel = channel

    def call(self, api: ApiClient) -> CertificatePublic:
        return api.record_printed(self.certificate_id, self.channel)


class RecordReprint(_OnCertificate):
    def __init__(self, certificate_id: int, channel: str, reason: str) -> None:
        super().__init__(certificate_id)
        self.channel, self.reason = channel, reason

    def call(self, api: ApiClient) -> CertificatePublic:
        return api.record_reprint(self.certificate_id, self.channel, self.reason)


class RecordPrintFailed(_OnCertificate):
    def __init__(self, certificate_id: int, channel: str, reason: str) -> None:
        super().__init__(certificate_id)
        self.channel, self.reason = channel, reason

    def call(self, api: ApiClient) -> CertificatePublic:
        return api.record_print_failed(self.certificate_id, self.channel, self.reason)


class ReissueCertificate(_OnCertificate):
    def __init__(self, certificate_id: int, body: CertificateReissue) -> None:
        super().__init__(certificate_id)
        self.body = body

    def call(self, api: ApiClient) -> Any:
        return api.reissue_certificate(self.certificate_id, self.body)


class CorrectCertificate(_OnCertificate):
    def __init__(self, certificate_id: int, body: CertificateCorrection) -> None:
        super().__init__(certificate_id)
        self.body = body

    def call(self, api: ApiClient) -> Any:
        return api.correct_certificate(self.certificate_id, self.body)


class RevokeCertificate(_OnCertificate):
    def __init__(self, certificate_id: int, body: CertificateRevocation) -> None:
        super().__init__(certificate_id)
        self.body = body

    def call(self, api: ApiClient) -> Any:
        return api.revoke_certificate(self.certificate_id, self.body)


class CancelCertificate(_OnCertificate):
    def __init__(self, certificate_id: int, body: CertificateCancellation) -> None:
        super().__init__(certificate_id)
        self.body = body

    def call(self, api: ApiClient) -> Any:
        return api.cancel_certificate(self.certificate_id, self.body)
