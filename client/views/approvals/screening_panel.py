"""人员审查: every person of the current round against every category (公安四大库 and 肇事肇祸
精神病), the newest result in each cell; hits in red, failed queries in orange, never-checked
cells grey. 【开始审查】 runs all checks again on the server."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.formatting import local_time
from client.views.style import DANGER, MUTED, WARNING, colour, set_state
from client.views.widgets import tab_leaves
from shared.approvals import ScreeningCategory, ScreeningOutcome
from shared.schemas.screening import ScreeningCell, ScreeningSummaryPublic

HIT = colour(DANGER)
ERROR = colour(WARNING)
NOT_RUN = colour(MUTED)


def cell_colour(cell: ScreeningCell) -> QColor | None:
    if cell.outcome == ScreeningOutcome.hit:
        return HIT
    if cell.outcome == ScreeningOutcome.error:
        return ERROR
    if cell.outcome is None:
        return NOT_RUN
    return None


class ScreeningPanel(QWidget):
    run_requested = Signal()

    def __init__(self, can_run: bool) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.state = QLabel("尚未获取审查结果", objectName="screeningState")
        self.state.setObjectName("screeningState")
        self.run = QPushButton("开始审查")
        self.run.setToolTip("对本轮申请涉及的全部人员逐项查询，结果随申请保存")
        self.run.setVisible(can_run)
        self.run.clicked.connect(self.run_requested)
        top.addWidget(self.state, 1)
        top.addWidget(self.run)
        layout.addLayout(top)
        categories = list(ScreeningCategory)
        self.table = QTableWidget(0, 3 + len(categories))
        self.table.setHorizontalHeaderLabels(
            ["人员", "身份", "证件号码", *[c.label for c in categories]]
        )
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        tab_leaves(self.table)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.table, 1)
        self.checked = QLabel()
        layout.addWidget(self.checked)

    def set_busy(self, busy: bool) -> None:
        self.run.setEnabled(not busy)
        if busy:
            self.state.setText("正在审查，请稍候…")

    def show_summary(self, summary: ScreeningSummaryPublic) -> None:
        self.run.setEnabled(True)
        self.state.setText(f"审查结论：{summary.state_label}")
        set_state(self.state, "outcome", str(summary.state.value))  # hit/error in colour (QSS)
        self.table.setRowCount(len(summary.persons))
        for row, person in enumerate(summary.persons):
            for column, text in enumerate((person.name, person.role_label, person.id_number)):
                self.table.setItem(row, column, QTableWidgetItem(text))
            for offset, cell in enumerate(person.results):
                item = QTableWidgetItem(cell.outcome_label)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                foreground = cell_colour(cell)
                if foreground is not None:
                    item.setForeground(QBrush(foreground))
                tip = [cell.detail or "", cell.provider or ""]
                if cell.checked_at:
                    tip.append(f"{local_time(cell.checked_at)} {cell.operator_name or ''}")
                item.setToolTip("\n".join(t for t in tip if t))
                self.table.setItem(row, 3 + offset, item)
        when = local_time(summary.last_checked_at) if summary.last_checked_at else "从未审查"
        self.checked.setText(f"第 {summary.round} 轮 · 最近审查：{when}")
