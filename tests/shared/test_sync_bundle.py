"""Building a bundle: the key facts, the exact bytes SYNC.md fixes, and the round trip."""

import base64
import dataclasses
import hashlib
import io
import zipfile
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.sync.bundle import FileEntry, Manifest, Record, build_bundle, manifest_bytes
from shared.sync.keys import (
    Node,
    PeerKey,
    key_id_of,
    parse_public_key,
    public_key_text,
    raw_public_key,
)
from shared.sync.refusals import Refusal
from shared.sync.verify import VerifiedBundle, verify_bundle
from tests.shared.sync_craft import (
    CREATED,
    HELLO,
    HELLO_SHA,
    KEY,
    KEY_ID,
    KEY_PUBLIC_HEX,
    KEYS,
    OTHER_KEY,
    PDF,
    PDF_SHA,
    portal_bundle,
    sample_records,
    unpack,
    uuid4,
)


def test_key_facts_follow_the_contract() -> None:
    raw = raw_public_key(KEY)
    assert raw.hex() == KEY_PUBLIC_HEX
    assert key_id_of(raw) == KEY_ID
    assert public_key_text(raw) == "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    assert parse_public_key(" 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n") == raw
    assert PeerKey(raw).key_id == KEY_ID


@pytest.mark.parametrize(
    "text",
    [
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",  # padding missing
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",  # URL-safe alphabet
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=",  # non-canonical last digit
        base64.b64encode(bytes(31)).decode(),
        "",
    ],
)
def test_a_public_key_must_be_canonical_base64_of_32_bytes(text: str) -> None:
    with pytest.raises(ValueError):
        parse_public_key(text)


def test_a_retired_key_accepts_only_what_was_created_before_its_retirement() -> None:
    key = PeerKey(raw_public_key(KEY), retired_at=CREATED)
    assert key.accepts(CREATED - timedelta(seconds=1))
    assert not key.accepts(CREATED)
    assert PeerKey(raw_public_key(KEY)).accepts(CREATED + timedelta(days=3650))
    with pytest.raises(ValueError):
        PeerKey(raw_public_key(KEY), retired_at=datetime(2026, 1, 1))


def test_manifest_records_and_name_are_the_exact_bytes_written_out_by_hand() -> None:
    record = Record(
        seq=41,
        id=UUID("0d7c1b9e-3f2a-4c5d-8e6f-7a8b9c0d1e2f"),
        type="application.submitted",
        at=datetime(2026, 11, 30, 15, 59, 12, 999_000, tzinfo=timezone(timedelta(hours=8))),
        data={"external_ref": "W-1", "b": 1, "a": {"z": 1.5, "y": "张三"}},
        files=(HELLO_SHA,),
    )
    built = build_bundle(
        source=Node.portal,
        target=Node.intranet,
        first_seq=41,
        records=[record],
        files=[HELLO],
        ack=1203,
        private_key=KEY,
        bundle_id=UUID("5f2b3c1e-8d4a-4b6f-9c2d-1e0f3a4b5c6d"),
        created_at=datetime(2026, 11, 30, 16, 0, 0, tzinfo=timezone(timedelta(hours=8))),
    )
    records = (
        '{"seq":41,"id":"0d7c1b9e-3f2a-4c5d-8e6f-7a8b9c0d1e2f","type":"application.submitted",'
        '"at":"2026-11-30T07:59:12Z","data":{"a":{"y":"张三","z":1.5},"b":1,"external_ref":"W-1"},'
        '"files":["2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"]}\n'
    ).encode()
    manifest = (
        '{"format":"sgss-bundle/1","bundle_id":"5f2b3c1e-8d4a-4b6f-9c2d-1e0f3a4b5c6d",'
        '"source":"portal","target":"intranet","key_id":"21fe31dfa154a261",'
        '"created_at":"2026-11-30T08:00:00Z","first_seq":41,"last_seq":41,"ack":1203,'
        f'"records_sha256":"{hashlib.sha256(records).hexdigest()}",'
        '"files":[{"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",'
        '"size":5}]}'
    ).encode()
    assert built.name == "portal-intranet-000000000041-000000000041.sgssb"
    members = unpack(built.data)
    assert list(members) == ["manifest.json", "signature", "records.ndjson", f"files/{HELLO_SHA}"]
    assert members["manifest.json"] == manifest
    assert members["records.ndjson"] == records
    assert members[f"files/{HELLO_SHA}"] == HELLO
    signature = base64.b64decode(members["signature"], validate=True)
    assert len(members["signature"]) == 88
    Ed25519PublicKey.from_public_bytes(bytes.fromhex(KEY_PUBLIC_HEX)).verify(signature, manifest)
    with zipfile.ZipFile(io.BytesIO(built.data)) as archive:
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.date_time == (2026, 11, 30, 8, 0, 0)


def test_an_ack_only_bundle_is_named_by_the_next_seq_and_carries_nothing() -> None:
    built = build_bundle(
        source=Node.intranet,
        target=Node.portal,
        first_seq=58,
        records=[],
        files=[],
        ack=41,
        private_key=KEY,
        bundle_id=uuid4(1),
        created_at=CREATED,
    )
    assert built.name == "intranet-portal-000000000058-000000000057.sgssb"
    members = unpack(built.data)
    assert members["records.ndjson"] == b""
    assert b'"first_seq":58,"last_seq":57,"ack":41,' in members["manifest.json"]
    empty_sha = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert f'"records_sha256":"{empty_sha}"'.encode() in members["manifest.json"]
    assert b'"files":[]}' in members["manifest.json"]
    result = verify_bundle(built.data, me=Node.portal, peer=Node.intranet, keys=KEYS)
    assert isinstance(result, VerifiedBundle)
    assert result.records == ()
    assert result.manifest.ack_only


def test_the_same_inputs_give_the_same_bytes() -> None:
    assert portal_bundle().data == portal_bundle().data
    assert portal_bundle().data != portal_bundle(key=OTHER_KEY).data


def test_a_bundle_round_trips() -> None:
    built = portal_bundle()
    result = verify_bundle(built.data, me=Node.intranet, peer=Node.portal, keys=KEYS)
    assert isinstance(result, VerifiedBundle), result
    assert result.manifest == built.manifest
    assert result.manifest.file_name == built.name
    assert list(result.records) == sample_records()
    assert result.files == {HELLO_SHA: HELLO, PDF_SHA: PDF}
    assert result.manifest.files == (FileEntry(HELLO_SHA, 5), FileEntry(PDF_SHA, len(PDF)))
    assert manifest_bytes(result.manifest) == unpack(built.data)["manifest.json"]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(st.dictionaries(st.text(), JSON, max_size=5), min_size=1, max_size=4),
    record_type=st.text(min_size=1, max_size=40),
    first_seq=st.integers(1, 2**40),
)
def test_any_json_data_round_trips(data: list[dict], record_type: str, first_seq: int) -> None:
    records = [
        Record(
            seq=first_seq + i,
            id=uuid4(i + 1),
            type=record_type,
            at=CREATED,
            data=item,
        )
        for i, item in enumerate(data)
    ]
    built = portal_bundle(records, first_seq=first_seq, files=())
    result = verify_bundle(built.data, me=Node.intranet, peer=Node.portal, keys=KEYS)
    assert isinstance(result, VerifiedBundle), result
    assert list(result.records) == records


def _manifest(**changes: object) -> Manifest:
    return dataclasses.replace(portal_bundle().manifest, **changes)


@pytest.mark.parametrize(
    "changes",
    [
        {"source": Node.intranet},  # to itself
        {"first_seq": 40},  # records start at 41
        {"first_seq": 0, "records": []},
        {"bundle_id": UUID("a8098c1a-f86e-11da-bd1a-00112444be1e")},  # a uuid1
        {"created_at": datetime(2026, 11, 30, 8, 0)},  # naive
        {"ack": -1},
        {"files": (HELLO,)},  # the second record names the PDF
        {"files": (HELLO, PDF, b"nobody names me")},
        {"records": [sample_records()[1]], "first_seq": 42},  # files nobody names
        {"records": [dataclasses.replace(sample_records()[0], data={"x": float("nan")})]},
        {"records": [dataclasses.replace(sample_records()[0], type="")]},
        {"records": [sample_records()[0], dataclasses.replace(sample_records()[1], seq=43)]},
        {"records": [sample_records()[0], dataclasses.replace(sample_records()[1], id=uuid4(41))]},
    ],
)
def test_the_builder_refuses_what_the_verifier_would(changes: dict) -> None:
    arguments: dict = {
        "source": Node.portal,
        "target": Node.intranet,
        "first_seq": 41,
        "records": sample_records(),
        "files": (HELLO, PDF),
        "ack": 0,
        "private_key": KEY,
        "bundle_id": uuid4(7),
        "created_at": CREATED,
    }
    build_bundle(**arguments)
    arguments.update(changes)
    with pytest.raises(ValueError):
        build_bundle(**arguments)


def test_refusals_read_as_sentences() -> None:
    refusal = verify_bundle(portal_bundle().data, me=Node.portal, peer=Node.intranet, keys=KEYS)
    assert isinstance(refusal, Refusal)
    assert refusal.message == f"{refusal.reason.label}：source 为 portal"
    bare = verify_bundle(b"", me=Node.intranet, peer=Node.portal, keys=KEYS)
    assert isinstance(bare, Refusal)
    assert bare.message == bare.reason.label


def test_a_bundle_is_ack_only_when_it_starts_one_past_its_end() -> None:
    assert _manifest(first_seq=42, last_seq=41).ack_only
    assert not _manifest(first_seq=41, last_seq=41).ack_only
