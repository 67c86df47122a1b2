"""Every dialog class of the desk, built as a clerk meets it: filled with realistic inputs,
against a real server where the dialog talks to one. The key and size tests walk this table;
a dialog class missing from it fails them (``dialog_classes``)."""

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog

import client.views
from client.api import ApiClient
from client.devices import diagnostics
from client.devices.settings import DeviceSettings
from client.jobs.runner import JobRunner
from client.models.fingerprint_enrolment import EnrolmentModel
from client.models.scores import ScoreGrid
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.action_dialogs import (
    AssignDialog,
    FingerprintCardDialog,
    ReasonDialog,
    ReassignDialog,
    RejectDialog,
)
from client.views.approvals.review_dialog import ReviewDialog
from client.views.card_preview import CardPreviewDialog
from client.views.certificates.dialogs import (
    CancelDialog,
    CertificateDetailDialog,
    CorrectionDialog,
    ReissueDialog,
    RevokeDialog,
)
from client.views.certificates.printing import PrintDialog, PrintProgressDialog
from client.views.change_password import ChangePasswordDialog
from client.views.devices.fingerprint_dialog import FingerprintEnrolDialog
from client.views.devices.settings_dialog import DeviceSettingsDialog
from client.views.exams.candidate_picker import CandidatePicker
from client.views.exams.exam_dialog import ExamDialog
from client.views.exams.scores_page import AmendDialog, ProblemsDialog
from client.views.reauth import ReauthDialog
from client.views.system.role_dialog import RoleDialog
from client.views.system.sync import BundleDialog, PeerKeyDialog, StuckRejectDialog
from client.views.system.user_dialog import OneTimePasswordDialog, UserDialog
from shared.enums import BusinessType
from shared.schemas.applications import PendingApprover
from shared.schemas.common import ActionState
from shared.schemas.exams import ExamCreate
from shared.schemas.sync import BundleState, SyncBundleDetail
from tests.card_faces import face as card_face
from tests.card_faces import sample_certificate
from tests.client.approval_desk import DeskWorld
from tests.served import ADMIN, ADMIN_PASSWORD

WAIT = 15000


def dialog_classes() -> set[type[QDialog]]:
    """Every QDialog subclass defined under ``client.views`` (all its modules imported)."""
    for module in pkgutil.walk_packages(client.views.__path__, "client.views."):
        importlib.import_module(module.name)
    found: set[type[QDialog]] = set()
    pending = [QDialog]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("client.views.") and not inspect.isabstract(sub):
                found.add(sub)
    return found


@dataclass
class Desk:
    """A county approver's signed-in desk; ``writes`` lists every request that changes
    something on the server (signing in changes nothing a clerk cares about)."""

    session: Session
    world: DeskWorld
    settings: QSettings
    writes: list[tuple[str, str]] = field(default_factory=list)


def recording(api: ApiClient, writes: list[tuple[str, str]]) -> ApiClient:
    real = api._send

    def send(method: str, path: str, **kw):  # type: ignore[no-untyped-def]
        if method != "GET" and path != "/auth/login":
            writes.append((method, path))
        return real(method, path, **kw)

    api._send = send  # type: ignore[method-assign]
    return api


def make_desk(world: DeskWorld, prefs: Preferences, runner: JobRunner) -> Desk:
    writes: list[tuple[str, str]] = []
    api = recording(world.signed_in("county"), writes)
    return Desk(Session(api, runner, prefs, api.me()), world, prefs.qsettings, writes)


def _colleagues() -> list[PendingApprover]:
    return [
        PendingApprover(user_id=7, name="李建国", role_label="审批民警", org_name="西湖区分局"),
        PendingApprover(user_id=8, name="王芳", role_label="领导", org_name="西湖区分局"),
    ]


def _review(desk: Desk) -> QDialog:
    app_id = desk.world.submit(BusinessType.legal_rep_change)["id"]
    dialog = ReviewDialog(desk.session, app_id)
    dialog.opinion.setPlainText("材料齐全，同意")
    return dialog


def _reject(desk: Desk) -> QDialog:
    dialog = RejectDialog()
    dialog.reason.setPlainText("法定代表人身份材料不全")
    dialog.new_item.setText("补充拟任法定代表人身份证复印件")
    dialog.add_correction()
    dialog.new_item.setText("股东会决议须加盖公章")
    return dialog


def _assign(desk: Desk) -> QDialog:
    dialog = AssignDialog(_colleagues())
    dialog.people.setCurrentRow(0)
    dialog.opinion.setPlainText("请李建国办理")
    return dialog


def _reassign(desk: Desk) -> QDialog:
    dialog = ReassignDialog(_colleagues(), "王芳")
    dialog.people.setCurrentRow(1)
    return dialog


def _reason(desk: Desk) -> QDialog:
    dialog = ReasonDialog("退回上一级", "退回原因（内部，上一级审批人可见）")
    dialog.reason.setPlainText("请补充县级审查意见")
    return dialog


def _card(desk: Desk) -> QDialog:
    dialog = FingerprintCardDialog()
    dialog.number.setText("ZW3301060000000001")
    return dialog


def _reauth(desk: Desk) -> QDialog:
    return ReauthDialog(desk.session, None, "登录已过期")


def _change_password(desk: Desk) -> QDialog:
    me = desk.session.me
    assert me is not None
    # no code was sent: should Enter ever submit, the write is seen and refused, and the shared
    # approver keeps the password the other tests sign in with
    dialog = ChangePasswordDialog(desk.session, me.username)
    dialog.code.setText("000000")
    dialog.new.setText("Xihu#Lake2026")
    dialog.repeat.setText("Xihu#Lake2026")
    return dialog


def _role(desk: Desk) -> QDialog:
    api = desk.world.admin
    orgs = api.orgs(page_size=5000).items
    role = api.roles(page_size=100).items[0]
    return RoleDialog(orgs[0], api.permissions(), orgs, role)


def _user(desk: Desk) -> QDialog:
    api = desk.world.admin
    user = next(u for u in api.users(page_size=100).items if u.username.endswith("_county"))
    dialog = UserDialog(user.org_id, user.org_name, api.roles(page_size=100).items, user)
    dialog.mobile.setText("13912345678")
    return dialog


def _one_time(desk: Desk) -> QDialog:
    return OneTimePasswordDialog("xh_clerk", "Tmp#38xq9LmZ")


def _devices(desk: Desk) -> QDialog:
    return DeviceSettingsDialog(desk.settings, desk.session.runner, workstation="XH-ZW-01")


def _enrol(desk: Desk) -> QDialog:
    api = desk.session.api
    app_id = desk.world.submit(BusinessType.guard_exam_enrolment)["id"]
    settings = DeviceSettings.load(desk.settings)
    model = EnrolmentModel(
        desk.session.run,
        lambda: diagnostics.open_fingerprint(settings),
        app_id,
        port=settings.fingerprint_port or "fingerprint",
    )
    return FingerprintEnrolDialog(model, api.application(app_id))


def _card_preview(desk: Desk) -> QDialog:
    return CardPreviewDialog(card_face(1))


def _score_problems(desk: Desk) -> QDialog:
    rows = [
        ("成绩", str(n), "理论（满分100）", f"成绩{100 + n}超出范围，应在0至100之间")
        for n in range(2, 40)
    ]
    return ProblemsDialog(None, "成绩文件有38处错误，未导入任何数据", rows)


def _amend(desk: Desk) -> QDialog:
    from datetime import UTC, datetime

    from shared.exams import PassRule
    from shared.schemas.exams import ScoreLine, ScoreSheetPublic

    rule = PassRule.model_validate(
        {
            "key": "theory_practice_60",
            "name": "理论、实操各 60 分合格",
            "subjects": [
                {"key": "theory", "name": "理论", "full_mark": 100, "pass_mark": 60},
                {"key": "practice", "name": "实操", "full_mark": 100, "pass_mark": 60},
            ],
        }
    )
    line = ScoreLine(
        id=1, application_id=1, admission_number="202600000010001", name="考生01",
        id_number="330106********0013", absent=False, scores={"theory": 59, "practice": 90},
        total=149, result=None, result_label="不合格", reasons=[], entered=True, amendments=0,
    )  # fmt: skip
    grid = ScoreGrid()
    grid.load(
        ScoreSheetPublic(
            exam_id=1, exam_name="2026年第一期保安员资格考试", exam_version=3, pass_rule=rule,
            pass_rule_description=rule.describe(), locked=True,
            scores_locked_at=datetime(2026, 3, 2, tzinfo=UTC), may_enter=False, refusal=None,
            counts={}, lines=[line],
        )
    )  # fmt: skip
    dialog = AmendDialog(None, grid, 0)
    dialog.marks["theory"].setText("61")
    dialog.reason.setText("试卷复核，理论漏计2分")
    return dialog


def _scheduler(desk: Desk) -> Session:
    """The administrator (who may schedule exams), its writes recorded as the desk's."""
    api = ApiClient(desk.world.admin.base_url)
    api.login(ADMIN, ADMIN_PASSWORD)
    me = api.me()
    return Session(recording(api, desk.writes), desk.session.runner, desk.session.prefs, me)


def _exam(desk: Desk) -> QDialog:
    rules = desk.world.admin.pass_rules()
    dialog = ExamDialog(_scheduler(desk), rules, "杭州市公安局")
    dialog.name.setText("2026年第三期保安员资格考试")
    dialog.address.setText("杭州市西湖区文三路199号保安员考试中心")
    return dialog


def _picker(desk: Desk) -> QDialog:
    admin = desk.world.admin
    start = datetime.now(UTC) + timedelta(days=14)
    exam = admin.create_exam(
        ExamCreate(
            name="2026年第四期保安员资格考试",
            address="杭州市西湖区文三路199号",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            seats=30,
            pass_rule_id=admin.pass_rules()[0].id,
        )
    )
    dialog = CandidatePicker(_scheduler(desk), exam)
    dialog.query.setText("王")
    return dialog


def _certificate_detail(desk: Desk) -> QDialog:
    return CertificateDetailDialog(desk.session, sample_certificate())


def _reprint(desk: Desk) -> QDialog:
    dialog = PrintDialog(sample_certificate(printed=True), DeviceSettings(), reprint=True)
    dialog.reason.setPlainText("卡面污损")
    return dialog


def _print_progress(desk: Desk) -> QDialog:
    """As a clerk meets it after a print ended (while printing, Esc is 取消 of the print:
    ``test_certificate_desk`` cancels through it)."""
    dialog = PrintProgressDialog("打印保安员证 — 欧阳明轩")
    dialog.progress("打印正面黑色", 0.4)
    dialog.ended(False, "打印未完成：卡片打印机上盖打开")
    return dialog


def _revoke(desk: Desk) -> QDialog:
    dialog = RevokeDialog(sample_certificate())
    dialog.reason.setPlainText("以保安员身份从事违法活动")
    dialog.basis.setPlainText("《保安服务管理条例》第四十三条")
    return dialog


def _correct(desk: Desk) -> QDialog:
    dialog = CorrectionDialog(sample_certificate())
    dialog.name.setText("欧阳明宣")
    dialog.reason.setPlainText("姓名录入错误")
    return dialog


def _bundle(desk: Desk) -> QDialog:
    """A quarantined bundle as the sync page shows it (read only: nothing to send)."""
    received = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    refused = ActionState(allowed=False, reason="只有被隔离的同步包才能丢弃")
    detail = SyncBundleDetail(
        id=3,
        name="portal-intranet-000000000041-000000000057.sgssb",
        state=BundleState.quarantined,
        state_label=BundleState.quarantined.label,
        bundle_id=None,
        first_seq=None,
        last_seq=None,
        size=18234,
        reason_code="bad_signature",
        reason="签名无效，清单可能被篡改",
        received_at=received,
        settled_at=None,
        settled_by=None,
        content_kept=True,
        recheck=ActionState(allowed=True),
        discard=refused,
        sha256="0" * 64,
        records=None,
    )
    return BundleDialog(detail)


def _peer_key(desk: Desk) -> QDialog:
    dialog = PeerKeyDialog()
    dialog.key.setText("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
    return dialog


def _stuck_reject(desk: Desk) -> QDialog:
    dialog = StuckRejectDialog(41, "application.submitted")
    dialog.reason.setPlainText("照片文件无法识别，请申请人重新上传后再报")
    return dialog


BUILDERS: dict[type[QDialog], Callable[[Desk], QDialog]] = {
    ReviewDialog: _review,
    RejectDialog: _reject,
    AssignDialog: _assign,
    ReassignDialog: _reassign,
    ReasonDialog: _reason,
    FingerprintCardDialog: _card,
    ReauthDialog: _reauth,
    ChangePasswordDialog: _change_password,
    RoleDialog: _role,
    UserDialog: _user,
    OneTimePasswordDialog: _one_time,
    DeviceSettingsDialog: _devices,
    FingerprintEnrolDialog: _enrol,
    CardPreviewDialog: _card_preview,
    ProblemsDialog: _score_problems,
    AmendDialog: _amend,
    ExamDialog: _exam,
    CandidatePicker: _picker,
    CertificateDetailDialog: _certificate_detail,
    PrintDialog: _reprint,
    PrintProgressDialog: _print_progress,
    ReissueDialog: lambda desk: ReissueDialog(sample_certificate()),
    CorrectionDialog: _correct,
    RevokeDialog: _revoke,
    CancelDialog: lambda desk: CancelDialog(sample_certificate()),
    BundleDialog: _bundle,
    PeerKeyDialog: _peer_key,
    StuckRejectDialog: _stuck_reject,
}

DIALOG_CLASSES = sorted(BUILDERS, key=lambda cls: cls.__name__)
