"""录入指纹 from the review dialog against a real server and the simulated module: the level-two
gate opens with an issued card number; the same finger under another identity is refused and
flagged; a quality failure is explained; an unplugged module or a cancel changes nothing; a
module without the notepad enrols under its port identity."""

import itertools
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from client.api import ApiClient
from client.devices import diagnostics
from client.devices.settings import DeviceSettings
from client.jobs.runner import JobRunner
from client.models.fingerprint_enrolment import EnrolmentModel
from client.preferences import Preferences
from client.session import Session
from client.views.approvals.review_dialog import ReviewDialog
from client.views.devices.fingerprint_dialog import FingerprintEnrolDialog
from drivers.fingerprint.device import FingerprintModule
from drivers.fingerprint.identity import port_id, station_key
from drivers.fingerprint.simulator import FingerprintSimulator
from drivers.sim import registry
from drivers.transport import SerialTransport
from shared.enums import BusinessType
from shared.schemas.applications import ApplicationDetail, ApproveBody
from tests.client.approval_desk import DeskWorld, build_desk_world
from tests.client.modal import when_modal
from tests.server.approval_world import _valid_id, application_body

WAIT = 20000
PORT = "fpsim://enrol-desk"
_serials = itertools.count(100)


@pytest.fixture(scope="module")
def world(admin_api: ApiClient) -> DeskWorld:
    return build_desk_world(admin_api, "fp")


@pytest.fixture
def sim() -> Iterator[FingerprintSimulator]:
    module = FingerprintSimulator()
    registry.install("fpsim", "enrol-desk", module)
    yield module
    registry.forget("fpsim")


@pytest.fixture
def county(world: DeskWorld, prefs: Preferences) -> Iterator[Session]:
    api = world.signed_in("county")
    runner = JobRunner()
    yield Session(api, runner, prefs, api.me())
    runner.cancel_all()
    runner.wait(10000)


def at_level_two(world: DeskWorld, county: Session, name: str) -> int:
    """A guard-exam enrolment of a new person, screened and approved at level one."""
    id_number = _valid_id("330106", "19960606", f"{next(_serials):03d}")
    body = application_body(BusinessType.guard_exam_enrolment, name=name)
    body["applicant_code"] = id_number
    body["persons"] = [{**p, "name": name, "id_number": id_number} for p in body["persons"]]
    app_id = int(world.admin.request("POST", "/applications", json=body)["id"])
    county.api.run_screening(app_id)
    version = county.api.application(app_id).version
    county.api.approve(app_id, ApproveBody(version=version, opinion="一级通过"))
    return app_id


def open_module() -> FingerprintModule:
    return FingerprintModule(SerialTransport(PORT), settle=0.0)


def enrol_dialog(
    qtbot: QtBot,
    county: Session,
    app_id: int,
    opener: Callable[[], FingerprintModule] = open_module,
) -> FingerprintEnrolDialog:
    detail = county.api.application(app_id)
    model = EnrolmentModel(county.run, opener, app_id, port=PORT)
    dialog = FingerprintEnrolDialog(model, detail)
    qtbot.addWidget(dialog)
    return dialog


def finished(dialog: FingerprintEnrolDialog) -> bool:
    return not dialog.model.running and dialog.model.step is not None


def test_enrolment_from_the_review_dialog_opens_level_two(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    sim.auto_finger = "王一的右手食指"
    DeviceSettings(fingerprint_port=PORT).save(county.prefs.qsettings)
    app_id = at_level_two(world, county, "王一")
    review = ReviewDialog(county, app_id)
    qtbot.addWidget(review)
    qtbot.waitUntil(lambda: review.primary.text() == "获取指纹卡号", timeout=WAIT)
    seen: list[str] = []

    def drive(dialog: FingerprintEnrolDialog) -> None:
        dialog.model.prompted.connect(lambda prompt: seen.append(prompt.text))
        dialog.model.enrolled.connect(lambda _detail: dialog.close_button.click())
        dialog.start_button.click()

    when_modal(FingerprintEnrolDialog, drive)
    review.primary.click()
    qtbot.waitUntil(lambda: review.primary.text() == "同意", timeout=WAIT)
    assert "指纹录入成功" in review.status.text()
    card = county.api.application(app_id).fingerprint_card_no
    assert card is not None and card.startswith("ZW330106")
    assert seen[:2] == ["正在连接指纹采集仪…", "请将手指平放在采集窗口"]
    assert "请再次按压同一手指" in seen
    assert sim.slots_of("王一的右手食指") != []


def test_the_same_finger_under_another_identity_is_refused_and_flagged(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    sim.auto_finger = "张三的右手食指"
    first = at_level_two(world, county, "张三")
    dialog = enrol_dialog(qtbot, county, first)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.result_detail is not None, timeout=WAIT)
    stored = len(sim.library)

    other = at_level_two(world, county, "李四")  # presents 张三's finger again
    before = county.api.application(other)
    dialog = enrol_dialog(qtbot, county, other)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT)
    assert dialog.prompt.text() == "该指纹已在他人名下登记，拒绝录入"
    assert "张三" in dialog.detail_label.text()
    assert len(sim.library) == stored  # nothing stored for 李四
    after = county.api.application(other)
    assert after.fingerprint_card_no is None and after.version == before.version
    flags = [e for e in county.api.progress(other).entries if e.action == "fp_duplicate"]
    assert len(flags) == 1 and "张三" in (flags[0].opinion or "")


def test_a_quality_failure_is_explained_and_a_retry_succeeds(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    sim.auto_finger = "赵五的右手食指"
    sim.fail_next_capture(0x04)  # too dry
    app_id = at_level_two(world, county, "赵五")
    dialog = enrol_dialog(qtbot, county, app_id)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT)
    assert "干" in dialog.prompt.text()
    assert dialog.start_button.text() == "重新采集"
    assert county.api.application(app_id).fingerprint_card_no is None
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.result_detail is not None, timeout=WAIT)
    assert "指纹录入成功" in dialog.prompt.text()


def test_an_unplugged_module_mid_enrolment_leaves_the_application_unchanged(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    sim.auto_finger = "钱六的右手食指"
    app_id = at_level_two(world, county, "钱六")
    before: ApplicationDetail = county.api.application(app_id)

    class PulledOut(FingerprintModule):
        def reg_model(self) -> None:
            sim.unplug()  # the USB cable comes out between the second press and the merge
            super().reg_model()

    dialog = enrol_dialog(
        qtbot, county, app_id, lambda: PulledOut(SerialTransport(PORT), settle=0.0)
    )
    dialog.start_button.click()
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT)
    assert "断开" in dialog.prompt.text() and "未作更改" in dialog.detail_label.text()
    after = county.api.application(app_id)
    assert (after.version, after.fingerprint_card_no) == (before.version, None)
    assert sim.slots_of("钱六的右手食指") == []


def test_cancel_while_waiting_for_a_finger(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    sim.auto_finger = None  # nobody puts a finger on the window
    app_id = at_level_two(world, county, "孙七")
    dialog = enrol_dialog(qtbot, county, app_id)
    dialog.start_button.click()
    qtbot.waitUntil(lambda: dialog.prompt.text() == "请将手指平放在采集窗口", timeout=WAIT)
    assert dialog.cancel_button.isVisibleTo(dialog)
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.model.running, timeout=WAIT)
    assert "已取消" in dialog.prompt.text()
    assert county.api.application(app_id).fingerprint_card_no is None


def test_manual_entry_closes_the_dialog_and_says_so(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    app_id = at_level_two(world, county, "周八")
    dialog = enrol_dialog(qtbot, county, app_id)
    dialog.show()
    dialog.manual_button.click()
    assert dialog.wants_manual and not dialog.isVisible()
    assert dialog.result() == 0  # rejected: nothing was enrolled here


def test_a_module_without_notepad_enrols_under_its_port_identity(
    qtbot: QtBot, world: DeskWorld, county: Session, sim: FingerprintSimulator
) -> None:
    """A clone answering 0x01 to ReadNotepad: the desk files its templates under the port
    identity, the same one at the next enrolment, so a duplicate is still caught."""
    sim.notepad_supported = False
    sim.auto_finger = "吴九的右手食指"
    settings = DeviceSettings(fingerprint_port=PORT)
    first = at_level_two(world, county, "吴九")
    dialog = enrol_dialog(qtbot, county, first, lambda: diagnostics.open_fingerprint(settings))
    dialog.start_button.click()
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT)
    assert dialog.result_detail is not None, dialog.prompt.text()
    assert (dialog.result_detail.fingerprint_card_no or "").startswith("ZW330106")
    expected = port_id(station_key(), PORT, sim.system_parameters())
    lines = [e.opinion or "" for e in county.api.progress(first).entries]
    assert any(f"采集器 {expected} 第 0 号" in line for line in lines), lines
    assert sim.notepad[0] == bytes(32) and sim.slots_of("吴九的右手食指") == [0]

    other = at_level_two(world, county, "郑十")  # presents 吴九's finger again, another day
    dialog = enrol_dialog(qtbot, county, other, lambda: diagnostics.open_fingerprint(settings))
    dialog.start_button.click()
    qtbot.waitUntil(lambda: finished(dialog), timeout=WAIT)
    assert dialog.prompt.text() == "该指纹已在他人名下登记，拒绝录入"
    assert "吴九" in dialog.detail_label.text()
    assert county.api.application(other).fingerprint_card_no is None


def test_the_device_test_reports_a_module_without_notepad(sim: FingerprintSimulator) -> None:
    sim.notepad_supported = False
    report = dict(diagnostics.fingerprint_report(PORT, 57600))
    assert report["记事本"] == "不可用（模块对“读记事本”指令应答 0x01）"
    expected = port_id(station_key(), PORT, sim.system_parameters())
    assert report["设备编号"].startswith(f"{expected}（备用编号")
    assert report["指纹库容量"] == "300" and report["已存指纹数"] == "0"
    assert report["状态"] == "正常"
