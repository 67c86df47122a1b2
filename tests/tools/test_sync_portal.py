"""The portal stand-in against an "intranet" played by the test with shared.sync.build_bundle:
it signs what the intranet can verify, applies each record exactly once, holds gaps, acks,
quarantines, and speaks both transports; and its command line works."""

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from server.clock import SystemClock
from server.services.materials.kinds import sniff
from server.services.sync.transports.files import FolderTransport
from server.services.sync.transports.http import GatewayTransport
from shared.schemas.applications import ApplicationCreate
from shared.schemas.forms import form_problems
from shared.sync.bundle import BuiltBundle, Record, build_bundle
from shared.sync.keys import (
    Node,
    PeerKey,
    key_id_of,
    keys_by_id,
    parse_public_key,
    public_key_text,
)
from shared.sync.keys import raw_public_key as raw_of
from shared.sync.refusals import Refusal
from shared.sync.verify import VerifiedBundle, verify_bundle
from tools.sync_portal import Interference, Material, Portal
from tools.sync_portal.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.4 the decision\n"


class Intranet:
    """The other end, as the test plays it: a key, a stream, and what it got of the portal."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.public_key = public_key_text(raw_of(self.key))
        self.records: list[Record] = []
        self.applied_upto = 0

    def record(self, type: str = "application.accepted", files: Sequence[bytes] = ()) -> Record:
        seq = len(self.records) + 1
        record = Record(
            seq=seq,
            id=uuid.uuid4(),
            type=type,
            at=START + timedelta(minutes=seq),
            data={"external_ref": f"WW-{seq}", "number": f"N{seq:04d}"},
            files=tuple(hashlib.sha256(f).hexdigest() for f in files),
        )
        self.records.append(record)
        return record

    def bundle(
        self,
        first: int,
        last: int,
        *,
        ack: int | None = None,
        files: Sequence[bytes] = (),
        key: Ed25519PrivateKey | None = None,
        created_at: datetime = START,
    ) -> BuiltBundle:
        return build_bundle(
            source=Node.intranet,
            target=Node.portal,
            first_seq=first,
            records=self.records[first - 1 : last],
            files=files,
            ack=self.applied_upto if ack is None else ack,
            private_key=key or self.key,
            bundle_id=uuid.uuid4(),
            created_at=created_at,
        )

    def verify(self, data: bytes, portal: Portal) -> VerifiedBundle:
        keys = keys_by_id([PeerKey(parse_public_key(portal.public_key))])
        verified = verify_bundle(data, me=Node.intranet, peer=Node.portal, keys=keys)
        assert isinstance(verified, VerifiedBundle), verified
        return verified


@pytest.fixture
def intranet() -> Intranet:
    return Intranet()


@pytest.fixture
def portal(tmp_path: Path, intranet: Intranet) -> Portal:
    portal = Portal(tmp_path / "portal")
    portal.add_peer(intranet.public_key)
    return portal


def _seqs(portal: Portal, type: str | None = None) -> list[int]:
    return [r.seq for r in portal.received(type)]


def test_the_key_is_made_once_and_kept(tmp_path: Path) -> None:
    first = Portal(tmp_path / "p")
    again = Portal(tmp_path / "p")
    assert first.public_key == again.public_key
    assert len(parse_public_key(first.public_key)) == 32
    assert first.key_id == hashlib.sha256(base64.b64decode(first.public_key)).hexdigest()[:16]
    if os.name != "nt":
        assert (tmp_path / "p" / "portal.key").stat().st_mode & 0o077 == 0


def test_a_submitted_application_is_what_the_api_accepts(portal: Portal, intranet: Intranet):
    ref = portal.submit_application(region_code="330102")
    built = portal.write_bundle()
    assert built is not None
    assert built.name == "portal-intranet-000000000001-000000000001.sgssb"
    verified = intranet.verify(built.data, portal)
    (record,) = verified.records
    assert (record.seq, record.type) == (1, "application.submitted")
    data = dict(record.data)
    materials = data.pop("materials")
    created = ApplicationCreate.model_validate(data)
    assert created.external_ref == ref and created.region_code == "330102"
    assert form_problems(created.business_type, created.form) == []
    (material,) = materials
    assert set(material) == {"title", "filename", "sha256"}
    assert record.files == (material["sha256"],)
    pdf = verified.files[material["sha256"]]
    assert sniff(pdf[:1024]) is not None and pdf.startswith(b"%PDF-")


def test_own_records_are_sent_again_until_acked(portal: Portal, intranet: Intranet):
    ref = portal.submit_application()
    portal.confirm_payment(ref, amount_fen=5000)
    first = portal.write_bundle()
    again = portal.write_bundle()
    assert first is not None and again is not None
    assert first.manifest.first_seq == again.manifest.first_seq == 1
    assert (
        intranet.verify(first.data, portal).records == intranet.verify(again.data, portal).records
    )

    intranet.applied_upto = 1  # it applied the application, not the payment
    assert portal.receive_bundle(intranet.bundle(1, 0).data).kind == "ack_only"
    resent = portal.write_bundle()
    assert resent is not None
    (payment,) = intranet.verify(resent.data, portal).records
    assert (payment.seq, payment.type) == (2, "payment.confirmed")
    assert payment.data["amount_fen"] == 5000

    intranet.applied_upto = 2
    portal.receive_bundle(intranet.bundle(1, 0).data)
    assert portal.write_bundle() is None  # an ack-only bundle is never answered with an ack
    assert portal.status()["acked_upto"] == 2 and portal.status()["waiting"] == 0


def test_an_ack_above_what_was_numbered_releases_only_what_exists(
    portal: Portal, intranet: Intranet
) -> None:
    portal.submit_application()
    portal.receive_bundle(intranet.bundle(1, 0, ack=99).data)
    assert portal.status()["acked_upto"] == 1
    portal.submit_application()
    built = portal.write_bundle()
    assert built is not None and built.manifest.first_seq == 2


def test_records_are_applied_exactly_once(portal: Portal, intranet: Intranet) -> None:
    for _ in range(3):
        intranet.record()
    intranet.record("application.decided", files=[PDF])
    first = intranet.bundle(1, 2)
    assert portal.receive_bundle(first.data).kind == "applied"
    assert portal.receive_bundle(first.data).kind == "duplicate"
    overlapping = portal.receive_bundle(intranet.bundle(1, 4, files=[PDF]).data)
    assert (overlapping.kind, overlapping.count) == ("applied", 2)
    assert _seqs(portal) == [1, 2, 3, 4]
    assert [r.id for r in portal.received()] == [r.id for r in intranet.records]
    (decided,) = portal.received("application.decided")
    assert portal.file(decided.files[0]) == PDF
    assert portal.status()["applied_upto"] == 4


def test_a_gap_is_held_until_the_missing_range_arrives(portal: Portal, intranet: Intranet):
    for _ in range(6):
        intranet.record()
    assert portal.receive_bundle(intranet.bundle(1, 1).data).kind == "applied"
    later = portal.receive_bundle(intranet.bundle(5, 6).data)
    assert (later.kind, later.missing) == ("held", (2, 4))
    middle = portal.receive_bundle(intranet.bundle(3, 4).data)
    assert (middle.kind, middle.missing) == ("held", (2, 2))
    status = portal.status()
    assert (status["held"], status["gap"], status["applied_upto"]) == (2, "2-2", 1)
    assert _seqs(portal) == [1]

    filled = portal.receive_bundle(intranet.bundle(2, 2).data)
    assert (filled.kind, filled.count) == ("applied", 5)
    assert _seqs(portal) == [1, 2, 3, 4, 5, 6]
    assert (portal.status()["held"], portal.status()["gap"]) == (0, "")


def test_applying_owes_an_ack_and_a_resent_bundle_owes_it_again(
    portal: Portal, intranet: Intranet
) -> None:
    intranet.record()
    bundle = intranet.bundle(1, 1)
    portal.receive_bundle(bundle.data)
    ack = portal.write_bundle()
    assert ack is not None and ack.manifest.ack_only
    assert (ack.manifest.first_seq, ack.manifest.ack) == (1, 1)
    assert ack.name == "portal-intranet-000000000001-000000000000.sgssb"
    assert portal.write_bundle() is None
    portal.receive_bundle(bundle.data)  # the ack was lost: the intranet sent the record again
    again = portal.write_bundle()
    assert again is not None and again.manifest.ack == 1


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda b: b[:-30], "not_zip"),
        (lambda b: b[:200] + bytes([b[200] ^ 1]) + b[201:], None),
    ],
)
def test_a_bad_bundle_is_quarantined_with_its_reason_and_nothing_applied(
    portal: Portal, intranet: Intranet, damage, reason: str | None
) -> None:
    intranet.record()
    data = damage(intranet.bundle(1, 1).data)
    expected = verify_bundle(
        data,
        me=Node.portal,
        peer=Node.intranet,
        keys=keys_by_id([PeerKey(parse_public_key(intranet.public_key))]),
    )
    assert isinstance(expected, Refusal)
    if reason:
        assert expected.reason.value == reason
    outcome = portal.receive_bundle(data, "intranet-portal-000000000001-000000000001.sgssb")
    assert (outcome.kind, outcome.reason) == ("quarantined", expected.message)
    assert portal.received() == []
    folder = portal.quarantine_dir
    name = "intranet-portal-000000000001-000000000001.sgssb"
    assert (folder / name).read_bytes() == data
    assert (folder / f"{name}.reason.txt").read_text(encoding="utf-8") == expected.message
    assert portal.quarantined() == [(name, expected.message)]
    assert portal.write_bundle() is None  # a refused bundle is not acked


def test_keys_unknown_and_retired(portal: Portal, intranet: Intranet) -> None:
    intranet.record()
    stranger = Ed25519PrivateKey.generate()
    assert portal.receive_bundle(intranet.bundle(1, 1, key=stranger).data).kind == "quarantined"
    assert "签名密钥未登记" in portal.quarantined()[0][1]

    portal.retire_peer(key_id_of(raw_of(intranet.key)), at=START + timedelta(hours=1))
    late = intranet.bundle(1, 1, created_at=START + timedelta(hours=2))
    assert portal.receive_bundle(late.data).kind == "quarantined"
    assert "停用" in portal.quarantined()[-1][1]
    assert portal.receive_bundle(intranet.bundle(1, 1).data).kind == "applied"


def test_the_file_ferry_takes_out_and_writes_in(
    portal: Portal, intranet: Intranet, tmp_path: Path
) -> None:
    side = tmp_path / "intranet"
    (side / "in").mkdir(parents=True)
    (side / "out").mkdir()
    intranet.record()
    intranet.record()
    outgoing = FolderTransport(side, SystemClock())
    outgoing.send(intranet.bundle(1, 2).name, intranet.bundle(1, 2).data)
    (side / "out" / "notes.txt").write_text("not a bundle", encoding="utf-8")
    ref = portal.submit_application()

    report = portal.step_files(side)

    assert [(name, o.kind, o.count) for name, o in report.taken] == [
        ("intranet-portal-000000000001-000000000002.sgssb", "applied", 2)
    ]
    assert sorted(p.name for p in (side / "out").iterdir()) == ["notes.txt"]
    assert report.written == "portal-intranet-000000000001-000000000001.sgssb"
    assert sorted(p.name for p in (side / "in").iterdir()) == [report.written]
    (arrival,) = FolderTransport(side, SystemClock()).arrivals(lambda: 0)
    verified = intranet.verify(arrival.read(), portal)
    assert verified.manifest.ack == 2
    assert verified.records[0].data["external_ref"] == ref
    assert _seqs(portal) == [1, 2]


@pytest.fixture
def gateway(portal: Portal) -> Iterator[str]:
    url, stop = portal.serve_http()
    yield url
    stop()


def _post(
    url: str, data: bytes, kind: str = "application/zip", name: str | None = None
) -> requests.Response:
    headers = {"Content-Type": kind}
    if name:
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return requests.post(url + "/sync/v1/bundles", data=data, headers=headers, timeout=10)


def test_the_gateway_accepts_holds_and_refuses(gateway: str, intranet: Intranet, portal: Portal):
    for _ in range(3):
        intranet.record()
    assert _post(gateway, intranet.bundle(1, 1).data).status_code == 200
    held = _post(gateway, intranet.bundle(3, 3).data)
    assert (held.status_code, held.text) == (202, "held: waiting for 2-2")
    assert _post(gateway, intranet.bundle(1, 1).data).status_code == 200  # a duplicate
    refused = _post(gateway, b"PK\x03\x04 not a whole zip", name="..\\sent.sgssb")
    assert refused.status_code == 422 and "ZIP" in refused.text
    assert portal.quarantined() == [("sent.sgssb", refused.text)]
    assert _post(gateway, intranet.bundle(2, 2).data, "text/plain").status_code == 415
    assert _post(gateway, intranet.bundle(2, 2).data).status_code == 200
    assert _seqs(portal) == [1, 2, 3]
    assert len(portal.quarantined()) == 1


def test_the_gateway_serves_the_stream_after_n(gateway: str, intranet: Intranet, portal: Portal):
    endpoint = gateway + "/sync/v1/bundles"
    assert requests.get(endpoint, params={"after": 0}, timeout=10).status_code == 204
    portal.submit_application()
    portal.submit_application()
    first = requests.get(endpoint, params={"after": 0}, timeout=10)
    assert first.status_code == 200 and first.headers["Content-Type"] == "application/zip"
    assert first.headers["Content-Disposition"] == (
        'attachment; filename="portal-intranet-000000000001-000000000002.sgssb"'
    )
    assert [r.seq for r in intranet.verify(first.content, portal).records] == [1, 2]
    rest = requests.get(endpoint, params={"after": 1}, timeout=10)
    assert [r.seq for r in intranet.verify(rest.content, portal).records] == [2]
    assert requests.get(endpoint, params={"after": 2}, timeout=10).status_code == 204
    assert requests.get(endpoint, params={"after": "-1"}, timeout=10).status_code == 400

    intranet.record()
    _post(gateway, intranet.bundle(1, 1).data)
    ack = requests.get(endpoint, params={"after": 2}, timeout=10)
    manifest = intranet.verify(ack.content, portal).manifest
    assert manifest.ack_only and manifest.ack == 1


def test_the_server_transport_round_trips_with_the_gateway(
    intranet: Intranet, portal: Portal
) -> None:
    failures = iter([Interference(status=503)])
    url, stop = portal.serve_http(interfere=lambda method, path: next(failures, None))
    try:
        sleeps: list[float] = []
        transport = GatewayTransport(url, timeout=5, attempts=3, sleep=sleeps.append)
        intranet.record()
        built = intranet.bundle(1, 1)
        transport.send(built.name, built.data)  # a 503 first, then taken
        assert len(sleeps) == 1 and _seqs(portal) == [1]

        portal.submit_application()
        applied = [0]
        names = []
        for arrival in transport.arrivals(lambda: applied[0]):
            names.append(arrival.name)
            verified = intranet.verify(arrival.read(), portal)
            applied[0] = max(applied[0], verified.manifest.last_seq)
        assert names == ["portal-intranet-000000000001-000000000001.sgssb"]
        assert applied == [1]
    finally:
        stop()


def test_the_command_line(tmp_path: Path, intranet: Intranet, capsys) -> None:
    state = str(tmp_path / "state")
    side = tmp_path / "intranet"
    (side / "in").mkdir(parents=True)
    (side / "out").mkdir()

    def run(*args: str) -> list[str]:
        assert main(list(args)) == 0
        return capsys.readouterr().out.splitlines()

    public_key = run("init", "--state", state)[-1]
    assert public_key == Portal(state).public_key
    assert run("peer", "--state", state, "--public-key", intranet.public_key)[-1].startswith(
        "peer key_id: "
    )
    made = run(
        "make-application", "--state", state, "--out", str(side / "in"), "--region", "330102"
    )
    ref = made[0].removeprefix("external_ref: ")
    (written,) = (side / "in").iterdir()
    assert made[1] == f"written: {written}"
    submitted = intranet.verify(written.read_bytes(), Portal(state)).records[0]
    assert (submitted.data["external_ref"], submitted.data["region_code"]) == (ref, "330102")

    intranet.record()
    bundle = intranet.bundle(1, 1)
    (side / "out" / bundle.name).write_bytes(bundle.data)
    ferried = run("ferry", "--state", state, "--intranet-dir", str(side))
    assert ferried[0] == f"taken: {bundle.name} applied 1"
    shown = dict(line.split(": ", 1) for line in run("show", "--state", state))
    assert (shown["applied_upto"], shown["last_seq"], shown["public_key"]) == (
        "1",
        "1",
        public_key,
    )
    (line,) = run("received", "--state", state)
    assert json.loads(line)["type"] == "application.accepted"

    key_id = key_id_of(raw_of(intranet.key))
    assert run("peer", "--state", state, "--retire", key_id) == [f"retired: {key_id}"]
    assert (
        "retired"
        in dict(line.split(": ", 1) for line in run("show", "--state", state))["peer_keys"]
    )


def test_init_runs_as_a_module(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tools.sync_portal", "init", "--state", str(tmp_path / "s")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert len(parse_public_key(done.stdout.splitlines()[-1])) == 32


def test_custom_materials_and_resubmission(portal: Portal, intranet: Intranet) -> None:
    photo = Material("营业执照", "licence.pdf", b"%PDF-1.4 licence")
    ref = portal.submit_application(materials=[photo])
    corrected: dict[str, Any] = {"unit_name": "新名称保安服务有限公司"}
    portal.resubmit(ref, form=corrected)
    built = portal.write_bundle()
    assert built is not None
    submitted, resubmitted = intranet.verify(built.data, portal).records
    assert submitted.data["materials"][0]["filename"] == "licence.pdf"
    assert resubmitted.type == "application.resubmitted"
    assert set(resubmitted.data) == {"external_ref", "form", "persons", "materials"}
    assert resubmitted.data["form"] == corrected
    assert resubmitted.data["persons"] == submitted.data["persons"]
    with pytest.raises(ValueError):
        portal.submit_application(external_ref=ref)


def test_interfere_can_damage_a_bundle_in_transit_either_way(
    intranet: Intranet, portal: Portal
) -> None:
    cut = Interference(damage=lambda data: data[: len(data) // 2])
    plan = iter([cut, None, cut])  # a damaged GET, a good one on the same connection, a POST
    url, stop = portal.serve_http(interfere=lambda method, path: next(plan, None))
    try:
        endpoint = url + "/sync/v1/bundles"
        portal.submit_application()
        with requests.Session() as session:  # kept alive: the damage is not carried over
            damaged = session.get(endpoint, params={"after": 0}, timeout=10)
            good = session.get(endpoint, params={"after": 0}, timeout=10)
        assert intranet.verify(good.content, portal).manifest.last_seq == 1
        assert damaged.status_code == 200  # each answer is built afresh: half of one
        assert abs(len(damaged.content) - len(good.content) // 2) <= 2
        assert not zipfile.is_zipfile(io.BytesIO(damaged.content))
        intranet.record()
        refused = _post(url, intranet.bundle(1, 1).data)
        assert refused.status_code == 422 and len(portal.quarantined()) == 1
        assert _seqs(portal) == []
    finally:
        stop()
