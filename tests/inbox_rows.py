"""One inbox line, as the server sends it, for tests of the desk's lists."""

from datetime import UTC, date, datetime

from shared.approvals import ApplicationStatus
from shared.enums import BusinessType
from shared.schemas.applications import ApplicationRow


def inbox_row(id_: int, overdue: bool = False) -> ApplicationRow:
    return ApplicationRow(
        id=id_,
        number=f"SQ2026{id_:06d}",
        business_type=BusinessType.legal_rep_change,
        business_type_label="法定代表人变更",
        applicant_name="某公司",
        status=ApplicationStatus.in_review,
        status_label="审批中",
        round=1,
        submitted_at=datetime(2026, 11, 2, tzinfo=UTC),
        version=1,
        due_date=date(2026, 11, 9),
        overdue=overdue,
    )
