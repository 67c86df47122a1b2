"""保安员资格证 at 1366 × 768: in the main window at the size it opens at on that screen, with the
desk's stylesheet, the 身份证号 and 证书编号 columns show every character of every row, whole or
masked, while longer text gives way."""

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from client.api import ApiClient
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.resources import stylesheet
from client.session import Session
from client.views.certificates.page import CertificatePage
from client.views.main_window import MainWindow
from client.views.pages import PAGES
from client.views.style import MAIN_WINDOW
from tests.client.certificate_desk import CertificateServer, serve_certificates
from tests.client.conftest import STRONG, activated_user
from tests.served import ADMIN, ADMIN_PASSWORD

WAIT = 20000
WHOLE = ("证书编号", "身份证号")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateServer]:
    served = serve_certificates(tmp_path_factory.mktemp("cert-columns"))
    certs = next(served)
    for n in range(6):
        certs.issue(f"欧阳列宽{n}", seed=40 + n)
    yield certs
    next(served, None)


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[None]:
    """The desk's stylesheet: its fonts set the widths."""
    qapp.setStyleSheet(stylesheet())
    yield
    qapp.setStyleSheet("")


def certificate_list(
    qtbot: QtBot, certs: CertificateServer, prefs: Preferences, username: str, password: str
) -> Iterator[CertificatePage]:
    api = ApiClient(certs.url)
    api.login(username, password)
    runner = JobRunner()
    session = Session(api, runner, prefs, api.me())
    window = MainWindow(session, PAGES)
    qtbot.addWidget(window)
    window.show()
    assert (window.width(), window.height()) == MAIN_WINDOW
    page = window.open_page("certificates")
    assert isinstance(page, CertificatePage)
    qtbot.waitUntil(lambda: len(page.model.rows) == 6, timeout=WAIT)
    yield page
    runner.cancel_all()
    runner.wait(10000)


def assert_whole(page: CertificatePage) -> None:
    view = page.table.view
    header = view.horizontalHeader()
    metrics = view.fontMetrics()
    titles = [c.title for c in page.model.columns]
    for title in WHOLE:
        column = titles.index(title)
        texts = [page.model.text(r, column) for r in range(len(page.model.rows))]
        assert all(len(t) >= 13 for t in texts), texts  # the numbers are there to be shown
        widest = max(metrics.horizontalAdvance(t) for t in texts)
        width = header.sectionSize(column)
        assert width >= view.sizeHintForColumn(column), (title, width)
        assert width > widest, (title, width, widest)
    # and the list still fits the view: the others gave way where they had to
    total = sum(header.sectionSize(c) for c in range(header.count() - 1))
    assert total < view.viewport().width()


def test_the_id_and_certificate_numbers_show_whole_at_1366(
    qtbot: QtBot, certs: CertificateServer, prefs: Preferences, styled: None
) -> None:
    for page in certificate_list(qtbot, certs, prefs, ADMIN, ADMIN_PASSWORD):
        assert "*" not in page.model.rows[0].id_number  # the administrator sees them whole
        assert_whole(page)


def test_masked_id_numbers_show_whole_too(
    qtbot: QtBot, certs: CertificateServer, prefs: Preferences, styled: None
) -> None:
    admin = ApiClient(certs.url)
    admin.login(ADMIN, ADMIN_PASSWORD)
    activated_user(admin, "certview", ["certificates:view"])
    for page in certificate_list(qtbot, certs, prefs, "certview", STRONG):
        assert "*" in page.model.rows[0].id_number
        assert_whole(page)
