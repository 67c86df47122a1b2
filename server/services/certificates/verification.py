"""Verification on the server, and the exports an offline verifier is given: the signed status
list and the public keys. The four results are the shared ``verify``'s; the server's status
source is its own records, which are always current."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.certificate_models import Certificate
from server.services.certificates.issue import list_size
from server.services.certificates.keys import CertificateKeys, key_ring, public_keys, signing_key
from shared.certificate_payload import Claims
from shared.certificate_status_list import StatusResult, build
from shared.certificate_verification import Verification, dump_public_keys, verify
from shared.certificates import CertificateStatus
from shared.china_time import china_day

STATUS_RESULTS = {
    CertificateStatus.active: StatusResult.valid,
    CertificateStatus.replaced: StatusResult.replaced,
    CertificateStatus.revoked: StatusResult.revoked,
    CertificateStatus.cancelled: StatusResult.cancelled,
}


def verify_payload(session: Session, text: str, *, now: datetime) -> Verification:
    def status(claims: Claims) -> tuple[StatusResult, str]:
        state = session.scalar(
            select(Certificate.status).where(
                Certificate.number == claims.number,
                Certificate.status_index == claims.status_index,
            )
        )
        if state is None:
            return StatusResult.unknown, "本系统无此证书记录"
        return STATUS_RESULTS[CertificateStatus(state)], ""

    return verify(text, key_ring(session), today=china_day(now), status=status)


def status_list(session: Session, keys: CertificateKeys, *, now: datetime, ttl_seconds: int) -> str:
    """The signed status list file: every card that is not active, at its slot."""
    rows = session.execute(
        select(Certificate.status_index, Certificate.status).where(
            Certificate.status != CertificateStatus.active.value
        )
    )
    entries = {index: STATUS_RESULTS[CertificateStatus(status)] for index, status in rows}
    key, private = signing_key(session, keys)
    return build(
        entries,
        size=list_size(session),
        issued_at=now,
        ttl_seconds=ttl_seconds,
        key_id=key.key_id,
        algorithm=key.algorithm,
        private_key=private,
    )


def public_key_file(session: Session) -> str:
    return dump_public_keys(public_keys(session))
