"""The filter row of enrolments (地区, 培训单位, 报名日期, search, 查询), shared by 考试报名 and the
candidate picker of 考试安排: same widgets, same reading into ``EnrolmentFilters`` changes."""

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
)

from client.models.exams import region_choices
from client.views.style import FILTER_COMBO_WIDTH
from client.views.widgets import DateRange, not_on_enter


class EnrolmentFilterRow:
    """Builds the row; ``changed`` runs when a choice changes, ``search`` on Enter or 查询.
    In a dialog (``in_dialog``) 查询 never becomes the default button a stray Enter presses."""

    def __init__(
        self,
        own_region: str,
        *,
        changed: Callable[[], None],
        search: Callable[[], None],
        query_width: int | None = None,
        in_dialog: bool = False,
    ) -> None:
        self.layout = QHBoxLayout()
        self.region = QComboBox(objectName="regionFilter")
        self.region.addItem("全部地区", None)
        for code, name in region_choices(own_region):
            self.region.addItem(name, code)
        self.region.setMaximumWidth(FILTER_COMBO_WIDTH)
        self.region.currentIndexChanged.connect(changed)
        self.unit = QLineEdit(placeholderText="培训单位")
        self.unit.returnPressed.connect(search)
        self.dates = DateRange("报名日期", 3, changed)
        self.use_dates, self.date_from, self.date_to = (
            self.dates.check,
            self.dates.start,
            self.dates.end,
        )
        self.query = QLineEdit(placeholderText="姓名、身份证号或申请编号")
        if query_width is not None:
            self.query.setMinimumWidth(query_width)
        self.query.returnPressed.connect(search)
        button = QPushButton("查询")
        button.clicked.connect(search)
        if in_dialog:
            not_on_enter(button)
        for widget in (
            self.region,
            self.unit,
            self.use_dates,
            self.date_from,
            QLabel("至"),
            self.date_to,
            self.query,
            button,
        ):
            self.layout.addWidget(widget)
        self.layout.addStretch(1)

    def values(self) -> dict[str, Any]:
        """The row as ``EnrolmentFilters`` changes (dates only while 报名日期 is ticked)."""
        date_from, date_to = self.dates.values()
        return {
            "region": self.region.currentData(),
            "training_unit": self.unit.text(),
            "q": self.query.text(),
            "date_from": date_from,
            "date_to": date_to,
        }
