"""申请人可见: exactly what the applicant sees of this application (the server's external view):
each round's steps as done / pending / not reached, the rejection reason with every correction,
and the final opinion — never an internal opinion or an approver's name."""

from html import escape

from PySide6.QtWidgets import QTextBrowser

from client.formatting import local_time
from client.views.style import DANGER, MUTED, SUCCESS, TEXT
from shared.schemas.applications import ExternalView

STATES = {
    "done": ("已通过", SUCCESS),
    "pending": ("办理中", DANGER),
    "not_reached": ("未开始", MUTED),
    "rejected": ("未通过", DANGER),
}
OUTCOMES = {"in_review": "审批中", "rejected": "已退回", "approved": "已通过"}


def external_html(view: ExternalView) -> str:
    parts = [
        f"<h3>{escape(view.business_type_label)} · {escape(view.applicant_name)}</h3>",
        f"<p>申请编号 {escape(view.number)} · 当前状态：<b>{escape(view.status_label)}</b>",
    ]
    if view.document_number:
        parts.append(f" · 证书编号 {escape(view.document_number)}")
    parts.append("</p>")
    for rnd in view.rounds:
        outcome = OUTCOMES.get(rnd.outcome, rnd.outcome)
        parts.append(
            f"<h4>第 {rnd.round} 轮（{local_time(rnd.submitted_at)} 提交，{outcome}）</h4><ul>"
        )
        for step in rnd.steps:
            label, colour = STATES.get(step.state, (step.state, TEXT))
            when = f" {local_time(step.at)}" if step.at else ""
            parts.append(
                f"<li>{escape(step.step_name)}（{escape(step.level_label)}）："
                f"<span style='color:{colour}'>{label}</span>{when}</li>"
            )
        parts.append("</ul>")
        if rnd.reason:
            parts.append(f"<p><b>退回原因：</b>{escape(rnd.reason)}</p>")
        if rnd.corrections:
            items = "".join(f"<li>{escape(c)}</li>" for c in rnd.corrections)
            parts.append(f"<p><b>请一次性补正以下内容：</b></p><ol>{items}</ol>")
        if rnd.opinion:
            parts.append(f"<p><b>审批意见：</b>{escape(rnd.opinion)}</p>")
    return "".join(parts)


class ExternalViewPanel(QTextBrowser):
    def __init__(self) -> None:
        super().__init__()
        self.setOpenLinks(False)
        self.setPlaceholderText("正在获取申请人可见的内容…")

    def show_view(self, view: ExternalView) -> None:
        self.setHtml(external_html(view))
