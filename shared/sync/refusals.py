"""Why a bundle is refused: a stable code and the Chinese sentence a person reads.

A refusal is data, not an application error: the receiver quarantines the file with the
sentence beside it, reports it, and goes on with the next bundle; nothing reaches the API's
error catalogue (shared/errors.py).
"""

from dataclasses import dataclass

from shared.enums import LabelledEnum


class RefusalReason(LabelledEnum):
    """Why a bundle was quarantined; the value is stable and may be stored and compared."""

    not_zip = ("not_zip", "文件不是完整的 ZIP 压缩包，可能仍在传输中或已损坏")
    too_large = ("too_large", "同步包超出接收限制")
    bad_zip = ("bad_zip", "压缩包内的成员无法读取（数据损坏、校验不符、已加密或压缩方式不受支持）")
    missing_member = ("missing_member", "同步包缺少必需的成员")
    extra_member = ("extra_member", "同步包含有协议之外的成员")
    bad_manifest = ("bad_manifest", "清单 manifest.json 无法解析或字段不符合协议")
    bad_format = ("bad_format", "不是本协议版本的同步包")
    unknown_key = ("unknown_key", "签名密钥未登记，无法核验签名")
    bad_signature = ("bad_signature", "签名无效，清单可能被篡改")
    wrong_source = ("wrong_source", "同步包不是对端节点发出的")
    wrong_target = ("wrong_target", "同步包不是发给本节点的")
    retired_key = ("retired_key", "签名密钥已停用，而同步包生成于停用之后")
    bad_ack_only = ("bad_ack_only", "仅含确认号的同步包不应带有记录或附件")
    records_hash_mismatch = ("records_hash_mismatch", "记录内容与清单中的摘要不符")
    file_missing = ("file_missing", "清单列出的附件不在同步包中")
    file_unlisted = ("file_unlisted", "同步包中有清单未列出的附件")
    file_size_mismatch = ("file_size_mismatch", "附件大小与清单不符")
    file_hash_mismatch = ("file_hash_mismatch", "附件内容与其 SHA-256 摘要不符")
    bad_records = ("bad_records", "记录无法解析或字段不符合协议")
    seq_mismatch = ("seq_mismatch", "记录序号不连续，或与清单的起止序号不符")
    record_file_unlisted = ("record_file_unlisted", "记录引用的附件不在本同步包中")


RECHECKABLE = frozenset({RefusalReason.unknown_key, RefusalReason.retired_key})
"""Refusals a re-check could change, the only ones whose bytes the receiver keeps (docs/sync.md
"Stuck states and ways out"). Both turn on the peer keys registered, not on the file alone:
``unknown_key`` passes once the portal's new key is registered; ``retired_key`` bundles are
signed by a genuine key of the portal (the signature is checked before the retirement), so
only the portal makes them and they are kept for the administrator to look into. Every other
check reads only the file's own bytes: the same bytes are refused the same way for ever."""


@dataclass(frozen=True)
class Refusal:
    reason: RefusalReason
    detail: str = ""

    @property
    def recheckable(self) -> bool:
        """Whether a re-check could come out otherwise (``RECHECKABLE``)."""
        return self.reason in RECHECKABLE

    @property
    def message(self) -> str:
        """The sentence for the quarantine's ``.reason.txt`` and the desk."""
        return f"{self.reason.label}：{self.detail}" if self.detail else self.reason.label


class RefusedError(Exception):
    """Raised inside the codec by any check; ``verify_bundle`` turns it into its refusal."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.refusal = Refusal(reason, detail)
