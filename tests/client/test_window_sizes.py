"""The desk is usable at 1366 × 768: every window and dialog opens, and can shrink, within the
screen less the Windows taskbar (728 px) and a title bar; PDFs open fitted to the width."""

from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QWidget
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.models.table import Column, PagedRows
from client.preferences import Preferences
from client.resources import stylesheet
from client.session import Session
from client.views.approvals.review_dialog import ReviewDialog
from client.views.main_window import MainWindow
from client.views.paged_table import PagedTable
from client.views.pages import PAGES
from client.views.sign_in import SignInWindow
from client.views.style import MAX_COLUMN_WIDTH
from shared.enums import BusinessType
from tests.client.approval_desk import DeskWorld, build_desk_world
from tests.client.desk_dialogs import BUILDERS, DIALOG_CLASSES, WAIT, Desk, make_desk

# 1366 × 768 less a 40 px taskbar, less a 31 px title bar and 8 px side frames (Windows 10)
AVAILABLE = QSize(1366 - 16, 768 - 40 - 31 - 8)


@pytest.fixture(scope="module")
def world(admin_api: ApiClient) -> DeskWorld:
    return build_desk_world(admin_api, "size")


@pytest.fixture
def desk(world: DeskWorld, prefs: Preferences, qapp) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    """With the desk's stylesheet: its fonts set the sizes."""
    qapp.setStyleSheet(stylesheet())
    runner = JobRunner()
    yield make_desk(world, prefs, runner)
    runner.cancel_all()
    runner.wait(10000)
    qapp.setStyleSheet("")


def fits(window: QWidget) -> None:
    name = type(window).__name__
    sizes = (
        ("opens at", window.size()),
        ("asks for", window.sizeHint()),
        ("cannot shrink below", window.minimumSizeHint()),
    )
    for what, size in sizes:
        assert size.width() <= AVAILABLE.width(), f"{name} {what} {size.width()} px wide"
        assert size.height() <= AVAILABLE.height(), f"{name} {what} {size.height()} px tall"


@pytest.mark.parametrize("cls", DIALOG_CLASSES, ids=lambda c: c.__name__)
def test_every_dialog_fits_1366_by_768(qtbot, desk: Desk, cls: type[QDialog]) -> None:  # type: ignore[no-untyped-def]
    dialog = BUILDERS[cls](desk)
    qtbot.addWidget(dialog)
    dialog.show()
    if isinstance(dialog, ReviewDialog):  # with its content: the form can be long
        qtbot.waitUntil(lambda: dialog.model.detail is not None, timeout=WAIT)
        qtbot.wait(50)
    fits(dialog)


def test_main_and_sign_in_windows_fit(qtbot, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    sign_in = SignInWindow(desk.session)
    qtbot.addWidget(sign_in)
    sign_in.show()
    fits(sign_in)
    admin = desk.world.admin
    session = Session(admin, desk.session.runner, desk.session.prefs, admin.me())
    main = MainWindow(session, PAGES)
    qtbot.addWidget(main)
    main.show()
    for key in main.entries:
        main.open_page(key)
    desk.session.runner.wait(WAIT)
    fits(main)


def _a4_pdf() -> bytes:
    out = BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for n in range(2):
        pdf.drawString(72, 760, f"page {n + 1}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def test_a_pdf_opens_fitted_to_the_width(qtbot, desk: Desk) -> None:  # type: ignore[no-untyped-def]
    """Loaded while its tab is hidden, shown at the review's size: the page is as wide as the
    view (less its scroll bar), from the top; it follows the window until zoomed by hand."""
    app_id = desk.world.submit(BusinessType.company_licence)["id"]
    desk.world.admin.upload_material(app_id, "申请书", "申请书.pdf", _a4_pdf())
    dialog = ReviewDialog(desk.session, app_id)
    qtbot.addWidget(dialog)
    dialog.show()
    viewer = dialog.materials
    qtbot.waitUntil(lambda: viewer.page_count == 2, timeout=WAIT)
    dialog.tabs.setCurrentWidget(viewer)
    qtbot.wait(20)
    view = viewer.view

    def shown_width() -> float:
        return view.item.boundingRect().width() * view.transform().m11()

    def room() -> int:
        return view.viewport().width() - view.verticalScrollBar().sizeHint().width()

    assert shown_width() == pytest.approx(room(), abs=2)
    assert shown_width() > 0.5 * dialog.width()  # not a thumbnail of the whole page
    assert view.verticalScrollBar().value() == view.verticalScrollBar().minimum()
    dialog.resize(dialog.width() - 200, dialog.height())
    qtbot.wait(20)
    assert shown_width() == pytest.approx(room(), abs=2)
    qtbot.mouseClick(viewer.next, Qt.MouseButton.LeftButton)
    assert shown_width() == pytest.approx(room(), abs=2)
    view.zoom_by(2.0)
    zoomed = view.transform().m11()
    dialog.resize(dialog.width() + 100, dialog.height())
    qtbot.wait(20)
    assert view.transform().m11() == zoomed  # the clerk's zoom is kept


@dataclass
class _Row:
    number: str
    name: str
    step: str
    due: str


def test_list_columns_fit_the_view_without_cutting_a_heading(qtbot, prefs: Preferences) -> None:  # type: ignore[no-untyped-def]
    columns = [
        Column("number", "申请编号"),
        Column("name", "申请人"),
        Column("step", "当前环节"),
        Column("due", "办理期限"),
    ]
    model = PagedRows(columns)
    table = PagedTable(model, "fit-test", prefs)
    qtbot.addWidget(table)
    table.resize(700, 400)
    table.show()
    long_name = "杭州西湖保安服务有限公司" * 4
    model.fill([_Row("SQ20260001", long_name, "县级公安机关初审", "2026-05-20")], 1)
    header = table.view.horizontalHeader()
    widths = [header.sectionSize(i) for i in range(len(columns))]
    assert sum(widths) <= table.view.viewport().width() + 1
    assert all(w >= header.sectionSizeHint(i) for i, w in enumerate(widths[:-1]))
    assert widths[1] <= MAX_COLUMN_WIDTH  # the long name gave way


@dataclass
class _Person:
    name: str
    id_number: str
    unit: str
    address: str
    employer: str
    due: str


def test_a_column_kept_whole_does_not_give_way_to_fit_the_view(qtbot, prefs: Preferences) -> None:  # type: ignore[no-untyped-def]
    """Too little room for everything: the long texts give way, the ID number does not (it
    would have, once they were down to its spare), and the stretched last section is no
    content to make room for."""
    columns = [
        Column("name", "姓名"),
        Column("id_number", "身份证号", whole=True),
        Column("unit", "培训单位"),
        Column("address", "住址"),
        Column("employer", "服务单位"),
        Column("due", "办理期限"),
    ]
    model = PagedRows(columns)
    table = PagedTable(model, "whole-test", prefs)
    qtbot.addWidget(table)
    table.show()
    long = "杭州市西湖区文三路保安服务培训中心" * 2
    model.fill([_Person("欧阳娜娜", "33010619900307123X", long, long, long, "2026-05-20")], 1)
    view, header = table.view, table.view.horizontalHeader()
    content = [view.sizeHintForColumn(i) for i in range(len(columns))]
    assert sum(min(w, MAX_COLUMN_WIDTH) for w in content) > view.viewport().width() + 200
    widths = [header.sectionSize(i) for i in range(len(columns))]
    assert sum(widths[:-1]) + header.sectionSizeHint(5) <= view.viewport().width() + 1
    assert widths[1] >= content[1]  # every digit shows
    assert all(widths[i] < content[i] for i in (2, 3, 4))  # the long texts gave way
    assert all(w >= header.sectionSizeHint(i) for i, w in enumerate(widths))
