from datetime import datetime
from typing import Any

from shared.schemas.common import Schema


class AuditEntryPublic(Schema):
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    entity_type: str
    entity_id: str | None
    org_id: int | None
    before: Any
    after: Any
    ip: str | None
    hash: str
