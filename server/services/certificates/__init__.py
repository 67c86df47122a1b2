"""保安员证: issuing cards, their lifecycle, signing keys, verification and the status list
(docs/certificates.md). ``issue_certificate`` is the entry point the 制证审批 step calls."""

from server.services.certificates.issue import Holder, issue_certificate
from server.services.certificates.keys import CertificateKeys

__all__ = ["CertificateKeys", "Holder", "issue_certificate"]
