"""内外网数据同步 as the API states it to the desk (docs/sync.md): the cursors, the transport,
the peer's keys and every bundle that arrived. Bundles are described, never sent: their bytes
stay on the server."""

from datetime import datetime

from pydantic import Field

from shared.enums import LabelledEnum
from shared.schemas.common import ActionState, Input, Schema


class BundleState(LabelledEnum):
    """What became of an inbound bundle (``sync_inbound_bundles.state``)."""

    applied = ("applied", "已导入")
    duplicate = ("duplicate", "重复，已跳过")
    ack_only = ("ack_only", "仅含确认号")
    held = ("held", "等待缺失序号")
    quarantined = ("quarantined", "已隔离")
    discarded = ("discarded", "已丢弃")


class PeerKeyPublic(Schema):
    key_id: str
    public_key: str
    added_at: datetime
    added_by: str
    retired_at: datetime | None
    retired_by: str | None


class SyncGap(Schema):
    """Seqs of the peer's stream that have not arrived while a later bundle waits for them."""

    missing_from: int
    missing_to: int


class SyncStuck(Schema):
    """The peer's record the stream is stuck on: its handler failed (not a rejection) in
    ``failures`` cycles in a row; 退回该记录 (sync:manage) answers it and moves past it."""

    seq: int
    type: str
    failures: int


class SyncStatus(Schema):
    configured: bool
    transport: str | None  # files | http
    transport_label: str  # e.g. 文件摆渡：/srv/sync; 未配置
    peer: str
    peer_label: str
    own_key_id: str | None  # this node's signing key, once created
    peer_keys: list[PeerKeyPublic]
    last_seq: int  # the highest seq of our stream numbered so far
    acked_upto: int  # the peer's last ack of our stream
    ack_lag: int  # last_seq - acked_upto: numbered records the peer has not acknowledged
    waiting: int  # our records not yet acknowledged, those still to be numbered included
    applied_upto: int  # the peer's stream applied with no gap below
    gap: SyncGap | None
    held: int
    quarantined: int
    last_sent_name: str | None
    last_sent_at: datetime | None
    last_received_name: str | None
    last_received_at: datetime | None
    last_cycle_at: datetime | None
    last_cycle_error: str | None
    stuck: SyncStuck | None = None


class SyncBundleRow(Schema):
    id: int
    name: str
    state: BundleState
    state_label: str
    bundle_id: str | None
    first_seq: int | None
    last_seq: int | None
    size: int
    reason_code: str | None
    reason: str | None
    received_at: datetime
    settled_at: datetime | None
    settled_by: str | None
    content_kept: bool  # its bytes are still held for a re-check
    # what may be done with it now, and if not why (the desk greys its buttons by these)
    recheck: ActionState
    discard: ActionState


class SyncBundleDetail(SyncBundleRow):
    """One bundle's manifest summary (never its bytes)."""

    sha256: str
    records: int | None  # how many records it carries (None when its manifest was unreadable)


class SyncRunResult(Schema):
    """One cycle run from the desk: the one-line summary the CLI prints, and its counts."""

    line: str
    counts: dict[str, int] = {}


class PeerKeyCreate(Input):
    public_key: str = Field(
        min_length=1, max_length=100, description="对端 Ed25519 公钥，标准 Base64（44 个字符）"
    )


class SyncStuckReject(Input):
    reason: str = Field(
        min_length=1, max_length=500, description="退回原因，随 record.rejected 发往外网门户"
    )
