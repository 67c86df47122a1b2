"""内外网数据同步 as the page shows it, without widgets: the status as labelled lines, the
columns of the bundle and peer-key tables, and one bundle's particulars."""

from typing import Any

from client.formatting import local_time
from client.models.table import Column

NONE = "无"
BUNDLE_FILTERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("已隔离", ("quarantined",)),
    ("等待缺失序号", ("held",)),
    ("待处理（隔离和等待）", ("quarantined", "held")),
    ("全部", ()),
)
"""The page's choice of bundles: the label and the states asked for (none: all)."""


def seqs(first: int | None, last: int | None) -> str:
    if first is None or last is None:
        return ""
    if last < first:
        return f"仅确认（下一序号 {first}）"
    return str(first) if first == last else f"{first}–{last}"


def size_text(size: int) -> str:
    for unit, scale in (("MB", 2**20), ("KB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} 字节"


class _SeqColumn(Column):
    def text(self, row: Any) -> str:
        return seqs(row.first_seq, row.last_seq)


BUNDLE_COLUMNS = [
    Column("received_at", "收到时间", "received_at", render=local_time),
    Column("state_label", "状态", "state"),
    Column("name", "文件名", "name"),
    _SeqColumn("first_seq", "序号", "first_seq"),
    Column("size", "大小", "size", render=size_text),
    Column("reason", "原因"),
]

PEER_KEY_COLUMNS = [
    Column("key_id", "密钥标识", whole=True),
    Column("retired_at", "状态", render=lambda t: "已停用" if t else "在用"),
    Column("added_at", "登记时间", render=local_time),
    Column("added_by", "登记人"),
    Column("retired_at", "停用时间", render=local_time),
    Column("retired_by", "停用人"),
    Column("public_key", "公钥（Base64）", whole=True),
]


def _when(name: str | None, at: Any) -> str:
    """The file name on its own line (never broken at its hyphens), its time under it."""
    return f"{name}\n{local_time(at, seconds=True)}" if name else NONE


def status_lines(status: Any) -> list[tuple[str, str]]:
    """(label, text) for the status panel, in reading order: where bundles go and what
    crossed last (long lines), then the numbers of both streams (short ones)."""
    gap = status.gap
    return [
        ("传输方式", status.transport_label),
        ("对端节点", status.peer_label),
        ("本节点密钥", status.own_key_id or "尚未生成（sgss-server sync keys init）"),
        ("最近收到", _when(status.last_received_name, status.last_received_at)),
        ("最近发出", _when(status.last_sent_name, status.last_sent_at)),
        ("最近一次同步", _last_cycle(status)),
        ("待确认记录", f"{status.waiting} 条"),
        (
            "确认滞后",
            f"{status.ack_lag} 条（编号至 {status.last_seq}，确认至 {status.acked_upto}）",
        ),
        ("已导入至", f"对端序号 {status.applied_upto}"),
        ("缺失序号", f"{gap.missing_from}–{gap.missing_to}" if gap else NONE),
        ("隔离 / 等待", f"{status.quarantined} 个 / {status.held} 个"),
        ("卡住的记录", stuck_text(status)),
    ]


def stuck_text(status: Any) -> str:
    """The record the stream is stuck on, or 无 (older servers send no ``stuck``)."""
    stuck = getattr(status, "stuck", None)
    if stuck is None:
        return NONE
    return f"序号 {stuck.seq}（类型 {stuck.type}），已连续失败 {stuck.failures} 次"


def _last_cycle(status: Any) -> str:
    if status.last_cycle_at is None:
        return "尚未同步"
    when = local_time(status.last_cycle_at, seconds=True)
    return f"{when}　未完成：{status.last_cycle_error}" if status.last_cycle_error else when


def bundle_lines(detail: Any) -> list[tuple[str, str]]:
    """One bundle's manifest summary, for its detail dialog."""
    return [
        ("文件名", detail.name),
        ("状态", detail.state_label),
        ("同步包编号", detail.bundle_id or "（清单无法读取）"),
        ("序号", seqs(detail.first_seq, detail.last_seq) or "（清单无法读取）"),
        ("记录数", "（清单无法读取）" if detail.records is None else f"{detail.records} 条"),
        ("大小", size_text(detail.size)),
        ("SHA-256", detail.sha256),
        ("收到时间", local_time(detail.received_at, seconds=True)),
        ("原因代码", detail.reason_code or ""),
        ("原因", detail.reason or ""),
        ("处理", _settled(detail)),
        ("内容", "已保存，可重新校验" if detail.content_kept else "未保存"),
    ]


def _settled(detail: Any) -> str:
    if detail.settled_at is None:
        return "尚未处理"
    return f"{local_time(detail.settled_at, seconds=True)}　{detail.settled_by or ''}"
