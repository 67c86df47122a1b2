"""The two transports of SYNC.md against real folders and a real local HTTP(S) server: the file
ferry's atomic writes, foreign names, half-copied files and settling; the gateway's answers,
retries with back-off, refusals and TLS verification."""

import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from server.clock import FrozenClock, SystemClock
from server.config import Settings
from server.services.sync.transports import TransportError, from_settings
from server.services.sync.transports import files as files_module
from server.services.sync.transports import http as http_module
from server.services.sync.transports.files import FolderTransport
from server.services.sync.transports.http import GatewayTransport, backoff_seconds
from tests.tls import make_tls_files

NAME = "portal-intranet-000000000001-000000000003.sgssb"


class _Later:
    """The real clock moved on by ``delta``: file times are the machine's own."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.delta


@pytest.fixture
def sync_dir(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _names(transport: FolderTransport) -> list[str]:
    return [a.name for a in transport.arrivals(lambda: 0)]


# --- the file ferry -------------------------------------------------------------------------


def test_send_writes_whole_file_and_no_partial_one_is_ever_visible(
    sync_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen_during_write: list[list[str]] = []
    real_fsync = os.fsync

    def watching_fsync(handle: int) -> None:
        # the moment the bytes are on disk but not yet renamed: a reader of *.sgssb sees nothing
        seen_during_write.append(sorted(p.name for p in (sync_dir / "out").glob("*.sgssb")))
        seen_during_write.append(_listing(sync_dir / "out"))
        real_fsync(handle)

    monkeypatch.setattr(files_module.os, "fsync", watching_fsync)
    FolderTransport(sync_dir, SystemClock()).send(NAME, b"PK bundle bytes")

    assert seen_during_write[0] == []
    temporaries = seen_during_write[1]
    assert len(temporaries) == 1 and not files_module.is_bundle_name(temporaries[0])
    assert _listing(sync_dir / "out") == [NAME]
    assert (sync_dir / "out" / NAME).read_bytes() == b"PK bundle bytes"


def test_send_replaces_an_older_file_of_the_same_name(sync_dir: Path) -> None:
    transport = FolderTransport(sync_dir, SystemClock())
    transport.send(NAME, b"first")
    transport.send(NAME, b"second")
    assert _listing(sync_dir / "out") == [NAME]
    assert (sync_dir / "out" / NAME).read_bytes() == b"second"


def test_a_new_bundle_supersedes_ours_still_waiting_in_out(sync_dir: Path) -> None:
    """Each bundle holds every unacknowledged record from the oldest: the ones the ferry has not
    taken yet go, the portal's and foreign names stay."""
    out = sync_dir / "out"
    transport = FolderTransport(sync_dir, SystemClock())
    transport.send("intranet-portal-000000000001-000000000040.sgssb", b"older")
    transport.send("intranet-portal-000000000001-000000000045.sgssb", b"old")
    (out / "portal-intranet-000000000001-000000000003.sgssb").write_bytes(b"not ours")
    (out / "notes.txt").write_text("a clerk's note")
    (out / ".intranet-portal-x.sgssb.part").write_bytes(b"a copier's temporary")
    transport.send("intranet-portal-000000000001-000000000052.sgssb", b"new")
    assert _listing(out) == [
        ".intranet-portal-x.sgssb.part",
        "intranet-portal-000000000001-000000000052.sgssb",
        "notes.txt",
        "portal-intranet-000000000001-000000000003.sgssb",
    ]


def test_a_failed_write_leaves_nothing_behind(
    sync_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(handle: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_module.os, "fsync", failing_fsync)
    with pytest.raises(TransportError) as raised:
        FolderTransport(sync_dir, SystemClock()).send(NAME, b"bytes")
    assert str(sync_dir / "out") in raised.value.message
    assert _listing(sync_dir / "out") == []


def test_send_refuses_a_name_that_is_not_a_bundle_file(sync_dir: Path) -> None:
    transport = FolderTransport(sync_dir, SystemClock())
    for bad in ("x.zip", "../x.sgssb", "a/b.sgssb", ".hidden.sgssb", ".sgssb"):
        with pytest.raises(ValueError):
            transport.send(bad, b"")


def test_arrivals_are_bundle_files_only_oldest_first(sync_dir: Path) -> None:
    inbox = sync_dir / "in"
    for name, age in [("b.sgssb", 30), ("a.sgssb", 20), ("c.sgssb", 40)]:
        (inbox / name).write_bytes(b"x")
        moment = time.time() - age
        os.utime(inbox / name, (moment, moment))
    for foreign in (
        "notes.txt",
        "c.sgssb.part",
        ".c.sgssb",  # a copier's hidden temporary
        ".a.sgssb.1f2e.tmp",  # ours
        "C.SGSSB.tmp",
        "a.sgssb.reason.txt",
    ):
        (inbox / foreign).write_bytes(b"x")
    (inbox / "folder.sgssb").mkdir()
    (inbox / "done").mkdir()
    (inbox / "done" / "old.sgssb").write_bytes(b"x")
    (inbox / "quarantine").mkdir()
    (inbox / "quarantine" / "bad.sgssb").write_bytes(b"x")

    assert _names(FolderTransport(sync_dir, SystemClock())) == ["c.sgssb", "b.sgssb", "a.sgssb"]


def test_a_symlink_is_not_read(sync_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "secret.sgssb"
    elsewhere.write_bytes(b"x")
    try:
        (sync_dir / "in" / "link.sgssb").symlink_to(elsewhere)
    except OSError:
        pytest.skip("no symlinks here")
    assert _names(FolderTransport(sync_dir, SystemClock())) == []


def test_a_half_copied_file_is_young_then_old_after_ten_minutes(sync_dir: Path) -> None:
    from shared.sync.keys import Node
    from shared.sync.refusals import Refusal, RefusalReason
    from shared.sync.verify import verify_bundle

    (sync_dir / "in" / NAME).write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00truncated")

    (arrival,) = FolderTransport(sync_dir, SystemClock()).arrivals(lambda: 0)
    data = arrival.read()
    refusal = verify_bundle(data, me=Node.intranet, peer=Node.portal, keys={})
    assert isinstance(refusal, Refusal) and refusal.reason == RefusalReason.not_zip
    assert arrival.unchanged_for() < timedelta(minutes=1)

    (later,) = FolderTransport(sync_dir, _Later(timedelta(minutes=11))).arrivals(lambda: 0)
    assert later.read() == data
    assert later.unchanged_for() >= timedelta(minutes=10)


def test_a_file_that_grows_after_listing_counts_as_fresh(sync_dir: Path) -> None:
    path = sync_dir / "in" / NAME
    path.write_bytes(b"PK\x03\x04 first part")
    (arrival,) = FolderTransport(sync_dir, _Later(timedelta(hours=1))).arrivals(lambda: 0)
    with path.open("ab") as more:
        more.write(b" second part")
    assert arrival.read() == b"PK\x03\x04 first part second part"
    assert arrival.unchanged_for() == timedelta(0)


def test_a_file_that_grows_after_reading_counts_as_fresh(sync_dir: Path) -> None:
    path = sync_dir / "in" / NAME
    path.write_bytes(b"PK\x03\x04 first part")
    (arrival,) = FolderTransport(sync_dir, _Later(timedelta(hours=1))).arrivals(lambda: 0)
    arrival.read()
    assert arrival.unchanged_for() >= timedelta(minutes=59)
    with path.open("ab") as more:
        more.write(b" second part")
    assert arrival.unchanged_for() == timedelta(0)


def test_read_stops_one_byte_past_the_limit(
    sync_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files_module, "MAX_BUNDLE_BYTES", 1000)
    (sync_dir / "in" / NAME).write_bytes(b"x" * 5000)
    (arrival,) = FolderTransport(sync_dir, SystemClock()).arrivals(lambda: 0)
    assert len(arrival.read()) == 1001


def test_done_moves_into_done_and_keeps_both_on_a_name_clash(sync_dir: Path) -> None:
    transport = FolderTransport(sync_dir, SystemClock())
    for content in (b"first", b"second", b"third"):
        (sync_dir / "in" / NAME).write_bytes(content)
        (arrival,) = transport.arrivals(lambda: 0)
        arrival.done()
    done = sync_dir / "in" / "done"
    stem = NAME.removesuffix(".sgssb")
    assert _listing(done) == sorted([NAME, f"{stem}.2.sgssb", f"{stem}.3.sgssb"])
    assert (done / NAME).read_bytes() == b"first"
    assert (done / f"{stem}.3.sgssb").read_bytes() == b"third"
    assert _names(transport) == []


def test_quarantine_moves_with_the_reason_beside_it(sync_dir: Path) -> None:
    transport = FolderTransport(sync_dir, SystemClock())
    reason = "签名无效，清单可能被篡改：第 3 字节"
    for content in (b"one", b"two"):
        (sync_dir / "in" / NAME).write_bytes(content)
        (arrival,) = transport.arrivals(lambda: 0)
        arrival.quarantine(reason)
    folder = sync_dir / "in" / "quarantine"
    second = NAME.removesuffix(".sgssb") + ".2.sgssb"
    assert _listing(folder) == sorted([NAME, NAME + ".reason.txt", second, second + ".reason.txt"])
    assert (folder / NAME).read_bytes() == b"one"
    assert (folder / second).read_bytes() == b"two"
    assert (folder / (second + ".reason.txt")).read_bytes() == reason.encode("utf-8")
    assert _names(transport) == []


def test_an_orphan_reason_from_a_crash_is_rewritten_not_kept_apart(sync_dir: Path) -> None:
    folder = sync_dir / "in" / "quarantine"
    folder.mkdir()
    (folder / (NAME + ".reason.txt")).write_text("old", encoding="utf-8")
    (sync_dir / "in" / NAME).write_bytes(b"bundle")
    (arrival,) = FolderTransport(sync_dir, SystemClock()).arrivals(lambda: 0)
    arrival.quarantine("新的原因")
    assert _listing(folder) == [NAME, NAME + ".reason.txt"]
    assert (folder / (NAME + ".reason.txt")).read_text(encoding="utf-8") == "新的原因"


def test_leave_keeps_the_file(sync_dir: Path) -> None:
    transport = FolderTransport(sync_dir, SystemClock())
    (sync_dir / "in" / NAME).write_bytes(b"x")
    (arrival,) = transport.arrivals(lambda: 0)
    arrival.leave()
    assert _names(transport) == [NAME]


def test_a_file_gone_before_it_is_read_is_reported_not_crashed(sync_dir: Path) -> None:
    (sync_dir / "in" / NAME).write_bytes(b"x")
    (arrival,) = FolderTransport(sync_dir, SystemClock()).arrivals(lambda: 0)
    (sync_dir / "in" / NAME).unlink()
    with pytest.raises(TransportError):
        arrival.read()
    assert arrival.unchanged_for() == timedelta(0)


def test_missing_folders_are_named_in_chinese(tmp_path: Path) -> None:
    transport = FolderTransport(tmp_path / "nowhere", SystemClock())
    with pytest.raises(TransportError) as listing:
        list(transport.arrivals(lambda: 0))
    assert str(tmp_path / "nowhere" / "in") in listing.value.message
    assert "不存在" in listing.value.message
    with pytest.raises(TransportError) as sending:
        transport.send(NAME, b"x")
    assert str(tmp_path / "nowhere" / "out") in sending.value.message


def test_an_unwritable_out_folder_is_named(sync_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: Path, *args: object, **kw: object) -> object:
        raise PermissionError(13, "Permission denied")  # as chmod would, were we not root

    monkeypatch.setattr(Path, "open", refused)
    with pytest.raises(TransportError) as raised:
        FolderTransport(sync_dir, SystemClock()).send(NAME, b"x")
    assert str(sync_dir / "out") in raised.value.message
    assert "权限" in raised.value.message


def test_describe_names_the_folder(sync_dir: Path) -> None:
    assert FolderTransport(sync_dir, FrozenClock()).describe() == f"files: {sync_dir}"


# --- the HTTP gateway -----------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Gateway:
    """A scripted gateway: each request takes the next answer (the last one repeats)."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.seen: list[Seen] = []
        self.lock = threading.Lock()

    def next_answer(self, seen: Seen) -> Answer:
        with self.lock:
            self.seen.append(seen)
            return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = gateway.next_answer(Seen(method, self.path, dict(self.headers), body))
            if answer.delay:
                time.sleep(answer.delay)  # the fault itself: a gateway slower than the timeout
            try:
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

    return Handler


@pytest.fixture
def serve() -> Iterator:
    servers: list[ThreadingHTTPServer] = []

    def start(gateway: Gateway, context: ssl.SSLContext | None = None) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
        server.daemon_threads = True
        if context is not None:
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if context else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _gateway_transport(url: str, sleeps: Sleeps, **kw: object) -> GatewayTransport:
    options: dict = {"timeout": 2.0, "attempts": 3, "jitter": lambda: 0.0, **kw}
    return GatewayTransport(url, sleep=sleeps, **options)


def test_204_means_nothing_to_fetch(serve) -> None:
    gateway = Gateway([Answer(204)])
    sleeps = Sleeps()
    transport = _gateway_transport(serve(gateway) + "/", sleeps)
    assert list(transport.arrivals(lambda: 41)) == []
    assert [(s.method, s.path) for s in gateway.seen] == [("GET", "/sync/v1/bundles?after=41")]
    assert sleeps.calls == []


def test_200_is_an_arrival_and_fetching_goes_on_only_while_applied_upto_advances(serve) -> None:
    bundle = b"PK\x03\x04 a whole bundle"
    gateway = Gateway(
        [
            Answer(200, bundle, {"Content-Disposition": f'attachment; filename="../{NAME}"'}),
            Answer(200, b"second", {}),
            Answer(204),
        ]
    )
    transport = _gateway_transport(serve(gateway), Sleeps())
    applied = [0]
    arrivals = transport.arrivals(lambda: applied[0])

    first = next(arrivals)
    assert (first.name, first.read()) == (NAME, bundle)
    assert first.unchanged_for() == timedelta.max
    first.done()
    applied[0] = 3  # the cycle applied it
    second = next(arrivals)
    assert second.read() == b"second"
    assert second.name == "gateway-after-000000000003.sgssb"
    second.quarantine("refused")  # nothing advanced: the same bundle would come back forever
    assert list(arrivals) == []
    assert [s.path for s in gateway.seen] == [
        "/sync/v1/bundles?after=0",
        "/sync/v1/bundles?after=3",
    ]


def test_send_posts_the_bundle_as_application_zip(serve) -> None:
    gateway = Gateway([Answer(202)])
    _gateway_transport(serve(gateway), Sleeps()).send(NAME, b"bundle bytes")
    (seen,) = gateway.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/sync/v1/bundles", b"bundle bytes")
    assert seen.headers["Content-Type"] == "application/zip"


def test_5xx_is_retried_with_back_off_then_succeeds(serve) -> None:
    gateway = Gateway([Answer(503), Answer(502), Answer(200)])
    sleeps = Sleeps()
    _gateway_transport(serve(gateway), sleeps).send(NAME, b"bundle")
    assert len(gateway.seen) == 3
    assert [s.body for s in gateway.seen] == [b"bundle"] * 3
    assert sleeps.calls == [0.25, 0.5]  # 0.5 s and 1 s, with the jitter at its low end


def test_a_timeout_is_retried(serve) -> None:
    gateway = Gateway([Answer(200, b"late", delay=3.0), Answer(200, b"in time")])
    sleeps = Sleeps()
    transport = _gateway_transport(serve(gateway), sleeps, timeout=1.0)
    (arrival,) = transport.arrivals(lambda: 0)
    assert arrival.read() == b"in time"
    assert len(gateway.seen) == 2 and len(sleeps.calls) == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_gives_up_after_its_attempts() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    sleeps = Sleeps()
    transport = _gateway_transport(url, sleeps, attempts=4, jitter=lambda: 0.999999)
    with pytest.raises(TransportError) as raised:
        transport.send(NAME, b"bundle")
    assert url in raised.value.message and "4 次" in raised.value.message
    assert "ConnectionError" in raised.value.message
    assert sleeps.calls == pytest.approx([0.5, 1.0, 2.0], rel=1e-5)
    with pytest.raises(TransportError):
        list(transport.arrivals(lambda: 0))


def test_5xx_until_the_last_attempt_names_the_status(serve) -> None:
    gateway = Gateway([Answer(500)])
    sleeps = Sleeps()
    with pytest.raises(TransportError) as raised:
        list(_gateway_transport(serve(gateway), sleeps, attempts=2).arrivals(lambda: 0))
    assert "HTTP 500" in raised.value.message
    assert len(gateway.seen) == 2 and len(sleeps.calls) == 1


@pytest.mark.parametrize("status", [400, 404, 413, 422])
def test_4xx_is_not_retried(serve, status: int) -> None:
    gateway = Gateway([Answer(status, "同步包签名无效".encode())])
    sleeps = Sleeps()
    transport = _gateway_transport(serve(gateway), sleeps)
    with pytest.raises(TransportError) as raised:
        transport.send(NAME, b"bundle")
    assert f"HTTP {status}" in raised.value.message
    assert "同步包签名无效" in raised.value.message
    with pytest.raises(TransportError):
        list(transport.arrivals(lambda: 0))
    assert len(gateway.seen) == 2 and sleeps.calls == []


def test_a_redirect_is_not_followed(serve) -> None:
    gateway = Gateway([Answer(302, headers={"Location": "http://elsewhere.invalid/"})])
    with pytest.raises(TransportError) as raised:
        list(_gateway_transport(serve(gateway), Sleeps()).arrivals(lambda: 0))
    assert "HTTP 302" in raised.value.message
    assert len(gateway.seen) == 1


def test_the_answer_is_read_no_further_than_the_limit(
    serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_module, "MAX_BUNDLE_BYTES", 1000)
    gateway = Gateway([Answer(200, b"x" * 200_000)])
    (arrival,) = _gateway_transport(serve(gateway), Sleeps()).arrivals(lambda: 0)
    assert len(arrival.read()) == 1001


def test_back_off_grows_and_is_capped() -> None:
    assert [backoff_seconds(n, 0.0) for n in range(3)] == [0.25, 0.5, 1.0]
    assert backoff_seconds(20, 0.0) == 15.0
    assert backoff_seconds(20, 0.999999) < 30.0


def _tls_context(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    files = make_tls_files(tmp_path / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    return context, files.ca


def test_tls_is_verified_a_private_ca_is_refused_by_default(serve, tmp_path: Path) -> None:
    context, ca = _tls_context(tmp_path)
    gateway = Gateway([Answer(204)])
    url = serve(gateway, context)
    sleeps = Sleeps()
    with pytest.raises(TransportError) as raised:
        list(_gateway_transport(url, sleeps).arrivals(lambda: 0))
    assert "TLS" in raised.value.message and url in raised.value.message
    assert sleeps.calls == []  # a certificate does not get better by asking again
    assert gateway.seen == []

    trusting = _gateway_transport(url, sleeps, ca_file=ca)
    assert list(trusting.arrivals(lambda: 0)) == []
    assert len(gateway.seen) == 1


def test_a_session_that_skips_verification_is_overridden(serve, tmp_path: Path) -> None:
    context, _ = _tls_context(tmp_path)
    url = serve(Gateway([Answer(204)]), context)
    careless = requests.Session()
    careless.verify = False
    with pytest.raises(TransportError):
        list(_gateway_transport(url, Sleeps(), session=careless).arrivals(lambda: 0))


# --- choosing by the settings ---------------------------------------------------------------


def test_from_settings_chooses_or_says_what_is_missing(tmp_path: Path) -> None:
    base: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path / 'x.db'}"}
    with pytest.raises(TransportError) as none:
        from_settings(Settings(**base))
    assert "SGSS_SYNC_TRANSPORT" in none.value.message
    with pytest.raises(TransportError) as no_dir:
        from_settings(Settings(**base, sync_transport="files"))
    assert "SGSS_SYNC_DIR" in no_dir.value.message
    with pytest.raises(TransportError) as no_url:
        from_settings(Settings(**base, sync_transport="http"))
    assert "SGSS_SYNC_URL" in no_url.value.message

    folder = from_settings(Settings(**base, sync_transport="files", sync_dir=tmp_path))
    assert isinstance(folder, FolderTransport) and folder.sync_dir == tmp_path
    gateway = from_settings(
        Settings(
            **base,
            sync_transport="http",
            sync_url="https://gw.example/",
            sync_http_timeout_seconds=5,
            sync_http_attempts=2,
            sync_ca_file=tmp_path / "ca.pem",
        )
    )
    assert isinstance(gateway, GatewayTransport)
    assert (gateway.url, gateway.timeout, gateway.attempts) == ("https://gw.example", 5, 2)
    assert gateway.describe() == "http: https://gw.example"
