"""The desk's plain models, headless: no QApplication, no PySide6. A fake ``run`` records the
named jobs a model asks for and answers them in the test's order."""

import subprocess
import sys
from datetime import date
from typing import Any

import pytest

from client.api import ApiError
from client.devices.enrolment import Outcome, Prompt, Step
from client.jobs import api_jobs as jobs
from client.jobs.fingerprint_jobs import EnrolFingerprint
from client.jobs.job import ApiJob, Job, device
from client.models.fingerprint_enrolment import EnrolmentModel
from client.models.inbox_badge import InboxBadge
from client.models.inbox_table import DONE_COLUMNS, PENDING_COLUMNS, InboxModel
from client.models.permission_matrix import PermissionMatrix
from client.models.review import ReviewModel
from client.models.table import Column, PagedRows
from client.session import Session
from drivers.errors import CancelledByUserError
from shared.schemas.applications import InboxCounts
from shared.schemas.roles import PermissionCatalogue
from tests.inbox_rows import inbox_row


class FakeRun:
    """Stands in for ``Session.run``: keeps (job, ok, err, progress) until the test answers."""

    def __init__(self) -> None:
        self.asked: list[tuple[Job, Any, Any, Any]] = []

    def __call__(self, job: Job, ok: Any = None, err: Any = None, **kw: Any) -> Job:
        self.asked.append((job, ok, err, kw.get("on_progress")))
        return job

    def names(self) -> list[str]:
        return [job.name for job, *_ in self.asked]

    def answer(self, name: str, value: Any) -> Job:
        for i, (job, ok, err, _progress) in enumerate(self.asked):
            if job.name == name:
                del self.asked[i]
                (err if isinstance(value, Exception) else ok)(value)
                return job
        raise AssertionError(f"{name} was not asked for: {self.names()}")


def test_the_models_and_the_session_load_without_qt() -> None:
    code = (
        "import sys, client.models.review, client.models.inbox_table, client.models.inbox_badge,"
        " client.models.permission_matrix, client.models.fingerprint_enrolment,"
        " client.models.table, client.session, client.jobs.api_jobs;"
        " assert not [m for m in sys.modules if m.startswith('PySide6')], 'Qt was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_inbox_model_holds_filters_sort_and_page_as_plain_state() -> None:
    model = InboxModel(page_size=20)
    assert model.params() == {
        "page": 1,
        "page_size": 20,
        "box": "pending",
        "with_counts": True,
    }
    model.set_filters(
        business_type="commendation",
        overdue=True,
        applicant="  某公司 ",
        date_from=date(2026, 1, 1),
        date_to=date(2026, 1, 31),
    )
    assert model.set_sort(5, descending=True)  # 办理期限
    model.fill([inbox_row(1, True)], 45)
    assert model.go(1) and model.page == 2
    assert not model.go_to(4) and model.page == 2  # 45 rows at 20 a page: 3 pages
    assert model.params(with_counts=False) == {
        "page": 2,
        "page_size": 20,
        "sort": "-due_date",
        "box": "pending",
        "business_type": "commendation",
        "applicant": "某公司",
        "overdue": True,
        "date_from": "2026-01-01",
        "date_to": "2026-01-31",
    }
    assert model.sort_column() == (5, True)
    model.set_filters(box="done", status="approved")  # the other box: its columns, page 1
    assert model.columns == DONE_COLUMNS and model.page == 1 and model.sort is None
    params = model.params()
    assert params["status"] == "approved" and "overdue" not in params
    with pytest.raises(TypeError):
        model.set_filters(colour="red")


def test_inbox_rows_flag_overdue_and_mark_the_time_limit() -> None:
    model = InboxModel()
    resets: list[str] = []
    model.resetting.connect(lambda: resets.append("begin"))
    model.reset.connect(lambda: resets.append("end"))
    page = type(
        "Page", (), {"items": [inbox_row(1, True), inbox_row(2, False)], "total": 2, "counts": None}
    )
    model.fill_page(page)
    assert resets == ["begin", "end"]
    due = next(i for i, c in enumerate(PENDING_COLUMNS) if c.key == "due_date")
    assert model.text(0, due) == "2026-11-09（超期）" and model.text(1, due) == "2026-11-09"
    assert model.flagged(0) and not model.flagged(1)
    assert model.tooltip(0, 0) == "已超过办理期限" and model.tooltip(1, 0) is None
    assert model.overdue_on_page == 1


def test_paged_rows_cannot_sort_what_the_server_cannot() -> None:
    rows = PagedRows([Column("name", "姓名"), Column("age", "年龄", "age")], page_size=10)
    assert not rows.set_sort(0)
    assert rows.sort is None
    pages: list[int] = []
    rows.page_changed.connect(lambda: pages.append(rows.pages))
    rows.fill([], 31)
    assert pages == [4]


def test_permission_matrix_signals_only_real_changes() -> None:
    matrix = PermissionMatrix(PermissionCatalogue.build(), ["orgs:view"])
    changes: list[int] = []
    matrix.changed.connect(lambda: changes.append(len(matrix.selected)))
    matrix.set("orgs:view", True)  # already there
    assert changes == []
    matrix.set_module("orgs", True)
    assert matrix.module_full("orgs") and len(changes) == 1


def test_badge_polls_with_a_quiet_named_job_and_keeps_a_stale_count() -> None:
    run = FakeRun()
    badge = InboxBadge(run)
    seen: list[str] = []
    badge.changed.connect(lambda: seen.append(badge.summary()))
    badge.refresh()
    badge.refresh()  # still in flight: not asked twice
    assert run.names() == ["LoadInboxCounts"] and run.asked[0][0].quiet
    run.answer("LoadInboxCounts", InboxCounts(total=3, overdue=1, by_type={"commendation": 3}))
    assert badge.total == 3 and not badge.stale
    badge.refresh()
    run.answer("LoadInboxCounts", ApiError("NETWORK_UNREACHABLE", "无法连接服务器"))
    assert badge.total == 3 and badge.stale and "刷新失败" in seen[-1]


def test_review_model_names_its_jobs_and_sends_the_version_it_shows() -> None:
    run = FakeRun()
    model = ReviewModel(run, 7, can_screen=True)
    model.load()
    assert run.names() == [
        "LoadApplication",
        "LoadProgress",
        "LoadExternalView",
        "LoadMaterials",
        "LoadScreening",
    ]
    fields = {"version": 4, "can_act": True, "current_task": None, "steps": [], "finished": False}
    detail = type("Detail", (), fields)
    run.answer("LoadApplication", detail)
    run.asked.clear()
    acted: list[str] = []
    model.acted.connect(acted.append)
    model.approve("同意")
    job, *_ = run.asked[0]
    assert isinstance(job, jobs.Approve) and job.application_id == 7 and job.body.version == 4
    run.answer("Approve", detail)
    assert acted == ["已同意，申请已转入下一环节"]
    assert run.names() == ["LoadProgress", "LoadExternalView", "LoadScreening"]
    failures: list[ApiError] = []
    model.failed.connect(failures.append)
    run.answer("LoadProgress", ApiError("STALE_VERSION", "已被他人处理"))
    assert [f.code for f in failures] == ["STALE_VERSION"]
    run.asked.clear()
    model.approve("同意")  # the last step: the server says the application is finished
    run.answer("Approve", type("Detail", (), {**fields, "finished": True}))
    assert acted[-1] == "已同意，审批通过，申请已办结"
    assert [f.code for f in failures] == ["STALE_VERSION"]


def test_enrolment_model_queues_on_the_module_port_and_reports_prompts() -> None:
    run = FakeRun()
    model = EnrolmentModel(run, lambda: None, 9, port="COM4")  # type: ignore[arg-type,return-value]
    states: list[bool] = []
    prompts: list[str] = []
    model.running_changed.connect(states.append)
    model.prompted.connect(lambda p: prompts.append(p.text))
    model.start(version=2)
    model.start(version=2)  # already running: one job
    job, _ok, err, progress = run.asked[0]
    assert isinstance(job, EnrolFingerprint) and len(run.asked) == 1
    assert job.resource == device("COM4") and job.version == 2
    progress(Prompt(Step.first_press, "请将手指平放在采集窗口"))
    assert model.step == Step.first_press and prompts == ["请将手指平放在采集窗口"]
    model.cancel()
    assert job.stop.is_set() and not job.cancelled  # the device stops; the answer still comes
    failed: list[tuple[str, str]] = []
    model.failed.connect(lambda message, code: failed.append((message, code)))
    err(CancelledByUserError())
    assert failed == [("已取消指纹录入，报名信息未作任何更改", "CANCELLED")]
    assert states == [True, False] and not model.running
    model.start(version=3)
    run.asked[-1][1](Outcome(detail="detail"))  # type: ignore[arg-type]
    assert states[-1] is False


class SyncRunner:
    """Runs each job at once, on this thread (the session needs only ``submit``)."""

    def submit(self, job: Job, ok: Any, err: Any, progress: Any = None, owner: Any = None) -> Job:
        try:
            value = job.run()
        except Exception as error:
            err(error)
        else:
            if ok is not None:
                ok(value)
        return job


class Server:
    """An API client whose token the test can end."""

    def __init__(self) -> None:
        self.token: str | None = "old"
        self.calls: list[str] = []

    def inbox(self, **_params: Any) -> str:
        self.calls.append(f"inbox with {self.token}")
        if self.token == "old":
            raise ApiError("AUTH_TOKEN_EXPIRED", "登录已过期")
        return "page"

    def login(self, _username: str, _password: str) -> None:
        self.token = "new"


def test_session_reauthenticates_once_and_runs_the_job_again() -> None:
    server = Server()
    asked: list[tuple[Any, str]] = []

    def reauthenticate(session: Session, parent: Any, reason: str) -> bool:
        asked.append((parent, reason))
        session.run(jobs.Reauthenticate("clerk", "pw"), reauth=False)
        return True

    me = type("Me", (), {"permissions": ["applications:view"], "username": "clerk"})
    session = Session(server, SyncRunner(), me=me, reauthenticate=reauthenticate)  # type: ignore[arg-type]
    pages: list[str] = []
    session.run(jobs.LoadInbox(page=1), pages.append, parent="the inbox window")
    assert asked == [("the inbox window", "登录已过期")]
    assert pages == ["page"] and server.calls == ["inbox with old", "inbox with new"]
    assert session.may("applications:view") and not session.may("users:view")


def test_session_gives_up_when_the_clerk_declines_or_nobody_is_signed_in() -> None:
    errors: list[str] = []
    declined = Session(Server(), SyncRunner(), me=object(), reauthenticate=lambda *_: False)  # type: ignore[arg-type]
    declined.run(jobs.LoadInbox(), None, lambda e: errors.append(e.code))
    asked: list[bool] = []
    signed_out = Session(Server(), SyncRunner(), reauthenticate=lambda *_: asked.append(True))  # type: ignore[arg-type]
    signed_out.run(jobs.LoadInbox(), None, lambda e: errors.append(e.code))
    assert errors == ["AUTH_TOKEN_EXPIRED", "AUTH_TOKEN_EXPIRED"] and asked == []


def test_session_wraps_foreign_errors_and_keeps_device_errors() -> None:
    class Broken(ApiJob):
        def call(self, api: Any) -> None:
            raise RuntimeError("disk full")

    class Unplugged(Job):
        def run(self) -> None:
            raise CancelledByUserError()

    errors: list[Exception] = []
    session = Session(Server(), SyncRunner())  # type: ignore[arg-type]
    session.run(Broken(), None, errors.append)
    session.run(Unplugged(), None, errors.append)
    assert isinstance(errors[0], ApiError) and errors[0].code == "CLIENT_ERROR"
    assert isinstance(errors[1], CancelledByUserError)
