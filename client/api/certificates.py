"""The API client's calls for the 保安员证 desk: the list, a card, its history, its face, photo
and PDF, what a print came to, and the lifecycle actions."""

from typing import Any, TypeVar

from pydantic import BaseModel

from shared.schemas.certificates import (
    CardFacePublic,
    CertificateCancellation,
    CertificateCorrection,
    CertificateHistory,
    CertificatePublic,
    CertificateReissue,
    CertificateRevocation,
)
from shared.schemas.common import Page
from shared.schemas.exams import ExamPublic

M = TypeVar("M", bound=BaseModel)


class CertificateCalls:
    """Mixed into ``ApiClient``: uses its ``request``, ``download`` and ``_get``."""

    def request(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        raise NotImplementedError

    def download(self, path: str, **params: Any) -> bytes:
        raise NotImplementedError

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        raise NotImplementedError

    def certificates(self, **params: Any) -> Page[CertificatePublic]:
        return self._get(Page[CertificatePublic], "/certificates", **params)

    def certificate(self, certificate_id: int) -> CertificatePublic:
        return self._get(CertificatePublic, f"/certificates/{certificate_id}")

    def certificate_history(self, certificate_id: int) -> CertificateHistory:
        return self._get(CertificateHistory, f"/certificates/{certificate_id}/history")

    def card_face(self, certificate_id: int) -> CardFacePublic:
        return self._get(CardFacePublic, f"/certificates/{certificate_id}/face")

    def certificate_photo(self, certificate_id: int) -> bytes:
        return self.download(f"/certificates/{certificate_id}/photo")

    def card_pdf(self, certificate_id: int) -> bytes:
        """The card as the server renders it: two CR80 pages, front and back."""
        return self.download(f"/certificates/{certificate_id}/card.pdf")

    def _post_card(self, certificate_id: int, action: str, body: dict[str, Any]) -> Any:
        return CertificatePublic.model_validate(
            self.request("POST", f"/certificates/{certificate_id}/{action}", json=body)
        )

    def record_printed(self, certificate_id: int, channel: str) -> CertificatePublic:
        return self._post_card(certificate_id, "printed", {"channel": channel})  # type: ignore[no-any-return]

    def record_reprint(self, certificate_id: int, channel: str, reason: str) -> CertificatePublic:
        body = {"channel": channel, "reason": reason}
        return self._post_card(certificate_id, "reprint", body)  # type: ignore[no-any-return]

    def record_print_failed(
        self, certificate_id: int, channel: str, reason: str
    ) -> CertificatePublic:
        body = {"channel": channel, "reason": reason}
        return self._post_card(certificate_id, "print-failed", body)  # type: ignore[no-any-return]

    def reissue_certificate(self, certificate_id: int, body: CertificateReissue) -> Any:
        return self._post_card(certificate_id, "reissue", _json(body))

    def correct_certificate(self, certificate_id: int, body: CertificateCorrection) -> Any:
        return self._post_card(certificate_id, "correct", _json(body))

    def revoke_certificate(self, certificate_id: int, body: CertificateRevocation) -> Any:
        return self._post_card(certificate_id, "revoke", _json(body))

    def cancel_certificate(self, certificate_id: int, body: CertificateCancellation) -> Any:
        return self._post_card(certificate_id, "cancel", _json(body))

    def exams(self, **params: Any) -> Page[ExamPublic]:
        return self._get(Page[ExamPublic], "/exams", **params)


def _json(body: BaseModel) -> Any:
    return body.model_dump(mode="json", exclude_none=True)
