"""系统管理 → 内外网数据同步 with real widgets against a real server on a seeded database.

The server runs in this process (uvicorn on a thread) so that one thing can be replaced: the
transport, by the in-memory one of the server tests, which can pause a cycle; that proves the
desk stays responsive while the cycle runs. Everything else (routes, permissions, reads, the
cycle and its lock) is the real server."""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from sqlalchemy import delete

from client.api import ApiClient
from client.embedded import free_port
from client.jobs.runner import JobRunner
from client.preferences import Preferences
from client.session import Session
from client.views.system.sync import BundleDialog, SyncPage
from server.app import create_app
from server.config import Settings
from server.db.session import create_db_engine, create_session_factory
from server.db.sync_models import (
    SyncAppliedRecord,
    SyncInboundBundle,
    SyncOutboxRecord,
    SyncPeerKey,
    SyncState,
)
from server.services.audit import CLI_ACTOR
from server.services.sync import keys, transports
from shared.schemas.sync import SyncRunResult
from tests.served import ADMIN, ADMIN_PASSWORD, init_with_admin
from tests.server.sync_fakes import T0, MemoryTransport, Portal

REASON = "签名无效，清单可能被篡改"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("sync-desk")
    url = f"sqlite:///{folder / 'sgss.db'}"
    init_with_admin(url)
    engine = create_db_engine(url)
    with create_session_factory(engine)() as session:
        now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        session.add(
            SyncState(
                peer="portal",
                last_seq=12,
                acked_upto=9,
                applied_upto=40,
                last_received_name="portal-intranet-000000000041-000000000057.sgssb",
                last_received_at=now,
                last_sent_name="intranet-portal-000000000010-000000000012.sgssb",
                last_sent_at=now,
            )
        )
        for name, state, first, reason in (
            ("portal-intranet-000000000058-000000000060.sgssb", "quarantined", None, REASON),
            ("portal-intranet-000000000044-000000000050.sgssb", "held", 44, None),
        ):
            session.add(
                SyncInboundBundle(
                    name=name,
                    sha256="b" * 64,
                    size=20480,
                    first_seq=first,
                    last_seq=first and first + 6,
                    state=state,
                    reason_code="bad_signature" if reason else None,
                    reason=reason,
                    content=b"PK",
                    received_at=now,
                )
            )
        session.commit()
        keys.init_node_key(session, folder / "data", now=now, actor=CLI_ACTOR)
        session.commit()
    engine.dispose()
    settings = Settings(
        database_url=url,
        data_dir=folder / "data",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        sync_transport="files",
        sync_dir=folder / "sync",
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}", url
    finally:
        server.should_exit = True
        thread.join(30)
        app.state.engine.dispose()


@pytest.fixture
def page(served: tuple[str, str], prefs: Preferences, qtbot) -> Iterator[SyncPage]:  # type: ignore[no-untyped-def]
    base, _ = served
    prefs.server_url = base
    runner = JobRunner()
    session = Session(ApiClient(base), runner, prefs)
    session.api.login(ADMIN, ADMIN_PASSWORD)
    session.me = session.api.me()
    page = SyncPage(session)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.model.total > 0 and bool(page.status_values), timeout=10000)
    yield page
    runner.cancel_all()
    runner.wait(10000)


def _select(page: SyncPage, name: str) -> Any:
    for row, bundle in enumerate(page.model.rows):
        if bundle.name == name:
            page.table.view.selectRow(row)
            return bundle
    raise AssertionError(name)


def test_page_shows_the_state_and_the_quarantined_bundle_with_its_reason(
    page: SyncPage, qtbot
) -> None:  # type: ignore[no-untyped-def]
    values = {label: value.text() for label, value in page.status_values.items()}
    assert values["传输方式"].startswith("文件摆渡：")
    assert values["对端节点"] == "外网门户"
    assert values["最近收到"].startswith(
        "portal-intranet-000000000041-000000000057.sgssb\n2026-12-01"
    )
    assert values["最近发出"].startswith("intranet-portal-000000000010-000000000012.sgssb")
    assert values["确认滞后"].startswith("3 条")
    assert values["缺失序号"] == "41–43"  # applied to 40, held from 44
    # by default only the quarantined bundles, with their reason as the clerk reads it
    assert page.filter.currentText() == "已隔离"
    table = page.table.adapter
    texts = [table.data(table.index(0, c)) for c in range(table.columnCount())]
    assert "已隔离" in texts and REASON in texts
    assert page.model.total == 1
    # nothing selected: re-check and discard are greyed
    assert not page.recheck_button.isEnabled() and not page.discard_button.isEnabled()
    assert page.reason_label.isHidden()
    _select(page, "portal-intranet-000000000058-000000000060.sgssb")
    assert page.recheck_button.isEnabled() and page.discard_button.isEnabled()
    # the reason in full under the table (its column elides a long one)
    assert not page.reason_label.isHidden()
    assert page.reason_label.text() == f"隔离原因：{REASON}"
    # the held one may be re-checked, never discarded (the server's reason as the tooltip)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.filter.setCurrentIndex(page.filter.findText("等待缺失序号"))
    _select(page, "portal-intranet-000000000044-000000000050.sgssb")
    assert page.recheck_button.isEnabled() and not page.discard_button.isEnabled()
    assert page.discard_button.toolTip() == "只有被隔离的同步包才能丢弃"


def test_detail_shows_the_manifest_summary(page: SyncPage, qtbot) -> None:  # type: ignore[no-untyped-def]
    _select(page, "portal-intranet-000000000058-000000000060.sgssb")
    page.show_detail()
    qtbot.waitUntil(lambda: isinstance(getattr(page, "detail_dialog", None), BundleDialog))
    dialog = page.detail_dialog
    assert dialog.values["原因"].text() == REASON
    assert dialog.values["原因代码"].text() == "bad_signature"
    assert dialog.values["大小"].text() == "20.0 KB"
    assert dialog.values["处理"].text() == "尚未处理"  # nobody re-checked or discarded it yet
    dialog.close()


def test_discard_asks_first_and_cancel_is_the_default(
    page: SyncPage, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    _select(page, "portal-intranet-000000000058-000000000060.sgssb")
    seen: dict[str, Any] = {}

    def answer_with_enter() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen["text"] = box.text()
        default = box.defaultButton()
        seen["default"] = default.text() if default else None
        seen["escape"] = box.escapeButton().text()  # type: ignore[union-attr]
        qtbot.keyClick(box, "\r")  # a stray Enter

    QTimer.singleShot(200, answer_with_enter)
    jobs: list[Any] = []
    monkeypatch.setattr(page.session, "run", lambda job, *a, **k: jobs.append(job))
    page.discard()
    assert "portal-intranet-000000000058-000000000060.sgssb" in seen["text"]
    assert seen["default"] == "取消" and seen["escape"] == "取消"
    assert jobs == []  # Enter chose 取消: nothing was sent


def test_run_now_runs_off_the_ui_thread_and_shows_the_summary(
    page: SyncPage, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    inside, release = threading.Event(), threading.Event()

    def pause() -> None:
        inside.set()
        assert release.wait(30)

    fake = MemoryTransport(on_arrivals=pause)
    monkeypatch.setattr(transports, "from_settings", lambda _settings: fake)
    run_button: QPushButton = page.run_button
    page.run_now()
    qtbot.waitUntil(inside.is_set, timeout=10000)  # the event loop ran while the cycle waits
    assert not run_button.isEnabled() and run_button.text() == "正在同步…"
    page.run_now()  # a second press while greyed does nothing
    assert page.status.text() == "正在同步，请稍候…"
    with qtbot.waitSignal(page.ran, timeout=10000) as ran:
        release.set()
    result = ran.args[0]
    assert isinstance(result, SyncRunResult) and result.line.startswith("同步完成：")
    assert page.status.text() == result.line
    assert run_button.isEnabled() and run_button.text() == "立即同步"
    qtbot.waitUntil(lambda: page.status_values["最近一次同步"].text() != "尚未同步")
    assert page.status.text() == result.line  # the refresh after it keeps the summary shown


def test_run_now_shows_the_servers_chinese_error(
    page: SyncPage, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    fake = MemoryTransport(fail_arrivals=True)
    monkeypatch.setattr(transports, "from_settings", lambda _settings: fake)
    with qtbot.waitSignal(page.ran, timeout=10000):
        page.run_now()
    assert page.status.text().startswith("同步未完成：测试：无法读取收件目录")
    assert page.status.property("error") is True
    assert page.run_button.isEnabled()


def test_a_viewer_sees_no_buttons_that_change_anything(
    served: tuple[str, str], prefs: Preferences, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from tests.client.conftest import STRONG, activated_user

    base, _ = served
    admin_api = ApiClient(base)
    admin_api.login(ADMIN, ADMIN_PASSWORD)
    activated_user(admin_api, "syncviewer", ["sync:view"])
    prefs.server_url = base
    session = Session(ApiClient(base), JobRunner(), prefs)
    session.api.login("syncviewer", STRONG)
    session.me = session.api.me()
    page = SyncPage(session)  # the answers come through the event loop, below
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10000):
        pass
    assert "全部数据" in page.status.text()  # own_subtree, not all: the server says why
    assert page.refresh_button.isVisible() and page.detail_button.isVisible()
    for button in (
        page.run_button,
        page.recheck_button,
        page.discard_button,
        page.add_key_button,
        page.retire_key_button,
    ):
        assert not button.isVisible()
    session.runner.wait(10000)


def test_a_stuck_record_shows_with_a_way_out_asked_twice(
    page: SyncPage, served: tuple[str, str], qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """退回该记录 shows only while a record is stuck; the reason dialog, then a question whose
    default (Enter) is 取消; answered 退回, the server answers the record and moves on."""
    assert page.stuck_bar.isHidden()
    _, url = served
    engine = create_db_engine(url)
    portal = Portal()
    for _ in range(41):
        portal.add()
    name, data = portal.bundle(41, 41)
    sessions = create_session_factory(engine)
    with sessions() as session:
        keys.add_peer_key(session, portal.public_text, now=T0, actor=CLI_ACTOR)
        bundle = SyncInboundBundle(
            name=name,
            sha256="c" * 64,
            size=len(data),
            first_seq=41,
            last_seq=41,
            state="held",
            content=data,
            received_at=T0,
        )
        session.add(bundle)
        state = session.get(SyncState, "portal")
        assert state is not None
        state.stuck_seq, state.stuck_type, state.stuck_failures = 41, "test.thing", 3
        session.commit()
        bundle_id = bundle.id
    try:
        with qtbot.waitSignal(page.loaded, timeout=10000):
            page.refresh()
        assert not page.stuck_bar.isHidden() and not page.stuck_button.isHidden()
        assert "序号 41，类型 test.thing）已连续 3 次" in page.stuck_label.text()
        assert page.status_values["卡住的记录"].text().startswith("序号 41（类型 test.thing）")

        answers: list[str] = []

        def answer(key: str) -> None:
            box = QApplication.activeModalWidget()
            assert isinstance(box, QMessageBox)
            answers.append(box.defaultButton().text())  # type: ignore[union-attr]
            if key == "enter":
                qtbot.keyClick(box, "\r")  # a stray Enter: 取消
            else:
                next(b for b in box.buttons() if b.text() == "退回").click()

        page.reject_stuck()
        dialog = page.stuck_dialog
        dialog.reason.setPlainText("照片无法识别")
        QTimer.singleShot(200, lambda: answer("enter"))
        dialog._submit()
        assert answers == ["取消"]
        with sessions() as session:
            assert session.get(SyncState, "portal").applied_upto == 40  # type: ignore[union-attr]

        page.reject_stuck()
        page.stuck_dialog.reason.setPlainText("照片无法识别")
        QTimer.singleShot(200, lambda: answer("click"))
        page.stuck_dialog._submit()
        assert answers == ["取消", "取消"]
        qtbot.waitUntil(lambda: page.status.text() != "", timeout=10000)
        assert page.status.text().startswith("已退回外网记录（序号 41）"), page.status.text()
        qtbot.waitUntil(page.stuck_bar.isHidden, timeout=10000)
        with sessions() as session:
            after = session.get(SyncState, "portal")
            assert after is not None and (after.applied_upto, after.stuck_seq) == (41, None)
    finally:
        with sessions() as session:
            state = session.get(SyncState, "portal")
            assert state is not None
            state.applied_upto, state.stuck_seq, state.stuck_type = 40, None, None
            session.execute(delete(SyncAppliedRecord).where(SyncAppliedRecord.seq == 41))
            session.execute(
                delete(SyncOutboxRecord).where(SyncOutboxRecord.type == "record.rejected")
            )
            session.execute(delete(SyncInboundBundle).where(SyncInboundBundle.id == bundle_id))
            key_id = portal.peer_key.key_id
            session.execute(delete(SyncPeerKey).where(SyncPeerKey.key_id == key_id))
            session.commit()
        engine.dispose()
