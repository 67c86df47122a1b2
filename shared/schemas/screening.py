"""Background screening (人员背景审查) as the API and the client see it."""

from datetime import datetime

from shared.approvals import PersonRole, ScreeningCategory, ScreeningOutcome
from shared.enums import LabelledEnum
from shared.schemas.common import Schema


class ScreeningState(LabelledEnum):
    """Where an application's screening stands, and so what level one may decide.

    Precedence when several apply: ``error`` > ``hit`` > ``missing`` > ``clear``. A failed query
    blocks every decision until screening is run again; a hit is decisive (only rejection), so it
    outranks checks that were never run.
    """

    clear = ("clear", "未见异常")
    hit = ("hit", "命中")
    error = ("error", "查询失败")
    missing = ("missing", "未完成审查")


NOT_CHECKED_LABEL = "未审查"


class ScreeningCell(Schema):
    """The newest result of one category for one person; ``outcome`` None: never checked."""

    category: ScreeningCategory
    category_label: str
    outcome: ScreeningOutcome | None
    outcome_label: str
    detail: str | None = None
    provider: str | None = None
    checked_at: datetime | None = None
    operator_name: str | None = None


class ScreeningPersonRow(Schema):
    person_id: int
    role: PersonRole
    role_label: str
    name: str
    id_number: str  # masked unless the viewer may see it in full
    state: ScreeningState
    state_label: str
    results: list[ScreeningCell]


class ScreeningSummaryPublic(Schema):
    application_id: int
    round: int
    state: ScreeningState
    state_label: str
    approve_allowed: bool
    reject_allowed: bool
    last_checked_at: datetime | None
    persons: list[ScreeningPersonRow]


class WatchListImportReport(Schema):
    added: int
    updated: int
    unchanged: int
