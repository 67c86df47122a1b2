"""``sgss-server sync …`` through the real entry point, on SQLite and PostgreSQL."""

import base64
import os
import stat

import pytest

from server.config import Settings
from server.services.sync import records_in, transports
from server.services.sync.keys import KEY_FOLDER, load_node_key
from shared.sync.keys import key_id_of, parse_public_key
from tests.server.sync_fakes import MemoryTransport, Portal, read_sent
from tests.server.test_cli import Cli, cli  # noqa: F401  (the fixture)


def test_keys_init_and_show_print_the_public_key_alone_on_the_last_line(
    cli: Cli,  # noqa: F811
    settings: Settings,
) -> None:
    cli("sync", "keys", "show", ok=False)  # none yet
    made = cli("sync", "keys", "init")
    shown = cli("sync", "keys", "show")
    public = shown.stdout.splitlines()[-1]
    assert made.stdout.splitlines()[-1] == public
    raw = parse_public_key(public)
    assert base64.b64encode(raw).decode() == public and len(public) == 44
    key = load_node_key(settings.data_dir)
    assert key.public_key == raw and key.key_id == key_id_of(raw)
    if os.name == "posix":
        assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
        assert stat.S_IMODE((settings.data_dir / KEY_FOLDER).stat().st_mode) == 0o700

    again = cli("sync", "keys", "init")  # kept, not replaced
    assert "已存在" in again.stdout and again.stdout.splitlines()[-1] == public
    replaced = cli("sync", "keys", "init", "--replace").stdout.splitlines()[-1]
    assert replaced != public
    assert cli("sync", "keys", "show").stdout.splitlines()[-1] == replaced
    assert (settings.data_dir / KEY_FOLDER / "retired" / f"{key_id_of(raw)}.pem").is_file()


def test_peer_keys_are_added_once_and_retired(cli: Cli) -> None:  # noqa: F811
    portal = Portal()
    key_id = portal.peer_key.key_id
    assert key_id in cli("sync", "peer", "add", "--public-key", portal.public_text).stdout
    assert "已登记" in cli("sync", "peer", "add", "--public-key", portal.public_text).stdout
    bad = cli("sync", "peer", "add", "--public-key", "not base64!", ok=False)
    assert "Base64" in bad.stderr
    assert "已停用" in cli("sync", "peer", "retire", key_id).stdout
    assert "已停用" in cli("sync", "peer", "list").stdout
    missing = cli("sync", "peer", "retire", "0123456789abcdef", ok=False)
    assert "没有这个对端公钥" in missing.stderr


def test_run_once_and_status(
    cli: Cli,  # noqa: F811
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    not_configured = cli("sync", "run-once", ok=False)
    assert "未配置内外网数据同步" in not_configured.stderr

    cli.settings["SGSS_SYNC_TRANSPORT"] = "files"
    cli.settings["SGSS_SYNC_DIR"] = str(settings.data_dir / "ferry")
    fake = MemoryTransport()
    monkeypatch.setattr(transports, "from_settings", lambda _settings: fake)
    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": lambda incoming: None})
    assert "同步签名密钥尚未生成" in cli("sync", "run-once", ok=False).stdout
    cli("sync", "keys", "init")
    portal = Portal()
    cli("sync", "peer", "add", "--public-key", portal.public_text)
    for _ in range(3):
        portal.add()
    fake.put(*portal.bundle(1, 3))
    line = cli("sync", "run-once").stdout.strip()
    assert line.startswith("同步完成：") and "应用记录 3 条" in line and "\n" not in line
    sent = read_sent(fake.sent[-1][1], load_node_key(settings.data_dir).public_key)
    assert sent.manifest.ack == 3 and sent.manifest.ack_only

    status = dict(line.split(": ", 1) for line in cli("sync", "status").stdout.strip().splitlines())
    assert status["applied_upto"] == "3" and status["last_seq"] == "0"
    assert status["acked_upto"] == "0" and status["quarantined"] == "0"
    assert status["gap"] == "无"
    assert status["transport"] == f"files: {settings.data_dir / 'ferry'}"

    fake.fail_arrivals = True
    failed = cli("sync", "run-once", ok=False)
    assert "测试：无法读取收件目录" in failed.stdout


def test_the_worker_runs_a_cycle_when_sync_is_configured_and_survives_its_failure(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.cli import worker_cmd
    from server.cli.common import open_env

    plain = open_env(settings)
    assert worker_cmd.one_pass(plain).sync is None
    plain.engine.dispose()

    env = open_env(settings.model_copy(update={"sync_transport": "files"}))
    fake = MemoryTransport(fail_send=True)
    monkeypatch.setattr(transports, "from_settings", lambda _settings: fake)
    # no key yet: the cycle fails, the pass goes on and says so
    failed = worker_cmd.one_pass(env)
    assert failed.sync is not None and "同步签名密钥尚未生成" in failed.sync
    assert "已发送通知 0 条" in failed.summary()

    def broken(_settings: Settings) -> MemoryTransport:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(transports, "from_settings", broken)
    assert "同步未执行" in (worker_cmd.one_pass(env).sync or "")
    env.engine.dispose()


def test_a_stuck_record_shows_in_status_and_reject_stuck_moves_past_it(
    cli: Cli,  # noqa: F811
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli.settings["SGSS_SYNC_TRANSPORT"] = "files"
    cli.settings["SGSS_SYNC_DIR"] = str(settings.data_dir / "ferry")
    fake = MemoryTransport()
    monkeypatch.setattr(transports, "from_settings", lambda _settings: fake)

    def crash(incoming: object) -> None:
        raise RuntimeError("SELECT secret")

    monkeypatch.setattr(records_in, "HANDLERS", {"test.thing": lambda _i: None, "x.y": crash})
    cli("sync", "keys", "init")
    portal = Portal()
    cli("sync", "peer", "add", "--public-key", portal.public_text)
    portal.add("x.y")
    portal.add()
    fake.put(*portal.bundle(1, 2))
    failed = cli("sync", "run-once", ok=False).stdout
    assert "外网记录（序号 1，类型 x.y）应用失败" in failed and "SELECT" not in failed
    status = cli("sync", "status").stdout
    assert "stuck: seq 1 (type x.y), failed 1 times" in status and "SELECT" not in status
    wrong = cli("sync", "reject-stuck", "2", "--reason", "格式不对", ok=False)
    assert "不是卡住的待应用记录" in wrong.stderr
    done = cli("sync", "reject-stuck", "1", "--reason", "格式不对").stdout
    assert "已退回外网记录（序号 1）" in done
    assert "stuck: 无" in cli("sync", "status").stdout
    assert cli("sync", "run-once").stdout.startswith("同步完成：")
    assert "applied_upto: 2" in cli("sync", "status").stdout
