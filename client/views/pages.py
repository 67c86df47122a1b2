"""Menu key → the page that implements it; keys without a page show a placeholder."""

from client.views.approvals.inbox_page import InboxPage
from client.views.certificates.page import CertificatePage
from client.views.exams.enrolments_page import EnrolmentsPage
from client.views.exams.exams_page import ExamsPage
from client.views.exams.scores_page import ScoresPage
from client.views.main_window import PageFactory
from client.views.system.audit import AuditPage
from client.views.system.orgs import OrgPage
from client.views.system.roles import RolePage
from client.views.system.sync import SyncPage
from client.views.system.users import UserPage

PAGES: dict[str, PageFactory] = {
    "applications": InboxPage,
    "orgs": OrgPage,
    "users": UserPage,
    "roles": RolePage,
    "audit": AuditPage,
    "exam_scores": ScoresPage,
    "exam_enrolments": EnrolmentsPage,
    "exams": ExamsPage,
    "certificates": CertificatePage,
    "sync": SyncPage,
}
