"""Every check of SYNC.md "Receiving" step 1, each reached on its own: the bundle is refused
with its reason, and nothing of it is returned."""

import base64
import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

import shared.sync.verify as verify_module
from shared.sync.bundle import build_bundle, record_line
from shared.sync.keys import Node, PeerKey, keys_by_id, raw_public_key
from shared.sync.refusals import Refusal, RefusalReason
from shared.sync.verify import VerifiedBundle, verify_bundle
from tests.shared.sync_craft import (
    CREATED,
    HELLO,
    HELLO_SHA,
    KEY,
    KEY_ID,
    KEYS,
    OTHER_KEY,
    PDF_SHA,
    pack,
    patch_central,
    payload_span,
    portal_bundle,
    repack,
    resign_raw,
    sample_records,
    unpack,
    uuid4,
)

R = RefusalReason
GOOD = portal_bundle().data
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclasses.dataclass(frozen=True)
class Case:
    reason: RefusalReason
    make: Callable[[], bytes]
    me: Node = Node.intranet
    peer: Node = Node.portal
    keys: Any = None  # KEYS
    limits: dict[str, int] = dataclasses.field(default_factory=dict)


def _fields(**changes: Any) -> Callable[[dict[str, Any]], None]:
    """A manifest edit: set each field, or delete it when the value is ``...``."""

    def edit(fields: dict[str, Any]) -> None:
        for name, value in changes.items():
            if value is ...:
                del fields[name]
            else:
                fields[name] = value

    return edit


def _members(**changes: bytes | None) -> Callable[[dict[str, bytes]], None]:
    """A member edit; names use ``__`` for ``/`` and ``_dot_`` for ``.``; None drops one."""

    def edit(parts: dict[str, bytes]) -> None:
        for key, value in changes.items():
            name = key.replace("__", "/").replace("_dot_", ".")
            if value is None:
                del parts[name]
            else:
                parts[name] = value

    return edit


def _lines(*edits: Callable[[dict[str, Any]], None] | None, raw: bytes | None = None) -> bytes:
    """The sample records, each edited as JSON, re-signed with a matching records_sha256."""
    lines = []
    for index, record in enumerate(sample_records()):
        fields = json.loads(record_line(record))
        edit = edits[index] if index < len(edits) else None
        if edit is not None:
            edit(fields)
        lines.append(json.dumps(fields, ensure_ascii=False).encode() + b"\n")
    text = raw if raw is not None else b"".join(lines)
    return repack(GOOD, members=_members(records_dot_ndjson=text), manifest=_fields())


def _file(name: str) -> str:
    return f"files/{name}"


def _ack_only() -> bytes:
    return portal_bundle([], first_seq=43, files=()).data


def _flip_in(name: str) -> bytes:
    start, end = payload_span(GOOD, name)
    middle = (start + end) // 2
    return GOOD[:middle] + bytes([GOOD[middle] ^ 0x55]) + GOOD[middle + 1 :]


def _signature_with_other_padding_bits() -> bytes:
    text = unpack(GOOD)["signature"].decode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet[alphabet.index(text[85]) ^ 1]
    return repack(GOOD, members=_members(signature=(text[:85] + last + "==").encode()))


RETIRED = keys_by_id([PeerKey(raw_public_key(KEY), retired_at=CREATED)])

CASES: dict[str, Case] = {
    # the ZIP itself
    "not a zip": Case(R.not_zip, lambda: b"manifest.json, signature, records.ndjson"),
    "empty file": Case(R.not_zip, lambda: b""),
    "truncated in the middle": Case(R.not_zip, lambda: GOOD[: len(GOOD) // 2]),
    "last byte missing": Case(R.not_zip, lambda: GOOD[:-1]),
    "file over the cap": Case(R.too_large, lambda: GOOD, limits={"MAX_BUNDLE_BYTES": 100}),
    "too many members": Case(R.too_large, lambda: GOOD, limits={"MAX_MEMBERS": 4}),
    "unpacked over the cap": Case(R.too_large, lambda: GOOD, limits={"MAX_UNPACKED_BYTES": 100}),
    "manifest over its cap": Case(R.too_large, lambda: GOOD, limits={"MAX_MANIFEST_BYTES": 100}),
    "records over their cap": Case(R.too_large, lambda: GOOD, limits={"MAX_RECORDS_BYTES": 10}),
    "more lines than a bundle holds": Case(R.too_large, lambda: GOOD, limits={"MAX_RECORDS": 1}),
    "signature member over its cap": Case(
        R.too_large, lambda: repack(GOOD, members=_members(signature=b"A" * 1025))
    ),
    "a byte flipped in deflated records": Case(R.bad_zip, lambda: _flip_in("records.ndjson")),
    "a byte flipped in a deflated file": Case(R.bad_zip, lambda: _flip_in(_file(PDF_SHA))),
    "bzip2 compression": Case(R.bad_zip, lambda: pack(unpack(GOOD), compression=12)),
    "encrypted flag": Case(R.bad_zip, lambda: patch_central(GOOD, "manifest.json", 8, "<H", 1)),
    "records declared shorter than they inflate": Case(
        R.bad_zip, lambda: patch_central(GOOD, "records.ndjson", 24, "<I", 20)
    ),
    "records declared longer than they inflate": Case(
        R.bad_zip, lambda: patch_central(GOOD, "records.ndjson", 24, "<I", 2000)
    ),
    # the members
    "no manifest": Case(
        R.missing_member, lambda: repack(GOOD, members=_members(manifest_dot_json=None))
    ),
    "no signature": Case(R.missing_member, lambda: repack(GOOD, members=_members(signature=None))),
    "no records member": Case(
        R.missing_member, lambda: repack(GOOD, members=_members(records_dot_ndjson=None))
    ),
    "a readme": Case(R.extra_member, lambda: repack(GOOD, members=_members(readme_dot_txt=b"hi"))),
    "a directory entry": Case(R.extra_member, lambda: repack(GOOD, members=_members(files__=b""))),
    "an upper-case file name": Case(
        R.extra_member,
        lambda: repack(GOOD, members=lambda p: p.update({_file(HELLO_SHA.upper()): HELLO})),
    ),
    "a nested file": Case(
        R.extra_member,
        lambda: repack(GOOD, members=lambda p: p.update({_file(HELLO_SHA) + "/x": HELLO})),
    ),
    "a member twice": Case(
        R.extra_member, lambda: pack([*unpack(GOOD).items(), ("signature", b"")])
    ),
    # the manifest
    "manifest not JSON": Case(
        R.bad_manifest, lambda: repack(GOOD, members=_members(manifest_dot_json=b"{"))
    ),
    "manifest not UTF-8": Case(
        R.bad_manifest, lambda: repack(GOOD, members=_members(manifest_dot_json=b'{"\xff":1}'))
    ),
    "manifest an array": Case(
        R.bad_manifest, lambda: repack(GOOD, members=_members(manifest_dot_json=b"[]"))
    ),
    "a field missing": Case(R.bad_manifest, lambda: repack(GOOD, manifest=_fields(ack=...))),
    "a field added": Case(R.bad_manifest, lambda: repack(GOOD, manifest=_fields(note="x"))),
    "seq as a string": Case(R.bad_manifest, lambda: repack(GOOD, manifest=_fields(first_seq="41"))),
    "ack as a boolean": Case(R.bad_manifest, lambda: repack(GOOD, manifest=_fields(ack=True))),
    "seq past 64 bits": Case(
        R.bad_manifest, lambda: repack(GOOD, manifest=_fields(last_seq=2**63))
    ),
    "first_seq zero": Case(R.bad_manifest, lambda: repack(GOOD, manifest=_fields(first_seq=0))),
    "last_seq two below first_seq": Case(
        R.bad_manifest, lambda: repack(GOOD, manifest=_fields(last_seq=39))
    ),
    "bundle_id a uuid1": Case(
        R.bad_manifest,
        lambda: repack(GOOD, manifest=_fields(bundle_id="a8098c1a-f86e-11da-bd1a-00112444be1e")),
    ),
    "bundle_id in capitals": Case(
        R.bad_manifest,
        lambda: repack(GOOD, manifest=_fields(bundle_id="5F2B3C1E-8D4A-4B6F-9C2D-1E0F3A4B5C6D")),
    ),
    "created_at with a fraction": Case(
        R.bad_manifest, lambda: repack(GOOD, manifest=_fields(created_at="2026-11-30T08:00:00.0Z"))
    ),
    "created_at in Beijing time": Case(
        R.bad_manifest,
        lambda: repack(GOOD, manifest=_fields(created_at="2026-11-30T16:00:00+08:00")),
    ),
    "created_at not a date": Case(
        R.bad_manifest, lambda: repack(GOOD, manifest=_fields(created_at="2026-02-30T08:00:00Z"))
    ),
    "an unknown node": Case(
        R.bad_manifest, lambda: repack(GOOD, manifest=_fields(source="extranet"))
    ),
    "records_sha256 in capitals": Case(
        R.bad_manifest,
        lambda: resign_raw(
            GOOD, lambda m: re.sub(rb'(?<="records_sha256":")\w+', lambda x: x[0].upper(), m)
        ),
    ),
    "a file entry with a name": Case(
        R.bad_manifest,
        lambda: repack(
            GOOD, manifest=_fields(files=[{"sha256": HELLO_SHA, "size": 5, "name": "a"}])
        ),
    ),
    "a negative file size": Case(
        R.bad_manifest,
        lambda: repack(GOOD, manifest=_fields(files=[{"sha256": HELLO_SHA, "size": -5}])),
    ),
    "a file listed twice": Case(
        R.bad_manifest,
        lambda: repack(GOOD, manifest=_fields(files=[{"sha256": HELLO_SHA, "size": 5}] * 2)),
    ),
    "files not a list": Case(R.bad_manifest, lambda: repack(GOOD, manifest=_fields(files={}))),
    "a key repeated": Case(
        R.bad_manifest, lambda: resign_raw(GOOD, lambda m: m[:-1] + b',"ack":1}')
    ),
    "NaN": Case(R.bad_manifest, lambda: resign_raw(GOOD, lambda m: m.replace(b"1203", b"NaN"))),
    "format 2": Case(R.bad_format, lambda: repack(GOOD, manifest=_fields(format="sgss-bundle/2"))),
    "no format": Case(R.bad_format, lambda: repack(GOOD, manifest=_fields(format=...))),
    # keys and signature
    "another key": Case(R.unknown_key, lambda: portal_bundle(key=OTHER_KEY).data),
    "no key id": Case(R.unknown_key, lambda: repack(GOOD, manifest=_fields(key_id=...))),
    "no keys at all": Case(R.unknown_key, lambda: GOOD, keys={}),
    "signed by another key under ours": Case(
        R.bad_signature, lambda: repack(GOOD, manifest=_fields(), key=OTHER_KEY)
    ),
    "manifest changed, signature kept": Case(
        R.bad_signature,
        lambda: repack(
            GOOD,
            members=lambda p: p.update(
                {"manifest.json": p["manifest.json"].replace(b"1203", b"1204")}
            ),
        ),
    ),
    "signature with a newline": Case(
        R.bad_signature,
        lambda: repack(GOOD, members=lambda p: p.update({"signature": p["signature"] + b"\n"})),
    ),
    "signature not base64": Case(
        R.bad_signature, lambda: repack(GOOD, members=_members(signature=b"!" * 88))
    ),
    "signature of 63 bytes": Case(
        R.bad_signature,
        lambda: repack(GOOD, members=_members(signature=base64.b64encode(bytes(63)))),
    ),
    "signature with other padding bits": Case(R.bad_signature, _signature_with_other_padding_bits),
    "signature empty": Case(R.bad_signature, lambda: repack(GOOD, members=_members(signature=b""))),
    "retired before it was signed": Case(R.retired_key, lambda: GOOD, keys=RETIRED),
    # who sends to whom
    "from ourselves": Case(
        R.wrong_source, lambda: repack(GOOD, manifest=_fields(source="intranet"))
    ),
    "read by the wrong side": Case(
        R.wrong_source, lambda: GOOD, me=Node.portal, peer=Node.intranet
    ),
    "to the peer itself": Case(
        R.wrong_target, lambda: repack(GOOD, manifest=_fields(target="portal"))
    ),
    # ack-only
    "ack-only listing a file": Case(
        R.bad_ack_only,
        lambda: repack(
            _ack_only(),
            members=lambda p: p.update({_file(HELLO_SHA): HELLO}),
            manifest=_fields(files=[{"sha256": HELLO_SHA, "size": 5}]),
        ),
    ),
    "ack-only with an empty line": Case(
        R.bad_ack_only,
        lambda: repack(_ack_only(), members=_members(records_dot_ndjson=b"\n"), manifest=_fields()),
    ),
    # integrity of the contents
    "records changed": Case(
        R.records_hash_mismatch,
        lambda: repack(GOOD, members=_members(records_dot_ndjson=record_line(sample_records()[0]))),
    ),
    "a listed file missing": Case(
        R.file_missing, lambda: repack(GOOD, members=lambda p: p.pop(_file(HELLO_SHA)))
    ),
    "an unlisted file": Case(
        R.file_unlisted,
        lambda: repack(
            GOOD, members=lambda p: p.update({_file(hashlib.sha256(b"x").hexdigest()): b"x"})
        ),
    ),
    "a listed size wrong": Case(
        R.file_size_mismatch,
        lambda: resign_raw(GOOD, lambda m: m.replace(b'"size":5}', b'"size":6}')),
    ),
    "a file's bytes changed": Case(
        R.file_hash_mismatch,
        lambda: repack(GOOD, members=lambda p: p.update({_file(HELLO_SHA): b"jello"})),
    ),
    # records
    "a line not JSON": Case(R.bad_records, lambda: _lines(raw=b"{\n")),
    "a line not UTF-8": Case(R.bad_records, lambda: _lines(raw=b'{"\xff":1}\n')),
    "a line an array": Case(R.bad_records, lambda: _lines(raw=b"[]\n[]\n")),
    "an empty line between": Case(
        R.bad_records,
        lambda: _lines(
            raw=record_line(sample_records()[0]) + b"\n" + record_line(sample_records()[1])
        ),
    ),
    "a field missing from a record": Case(R.bad_records, lambda: _lines(lambda f: f.pop("at"))),
    "a field added to a record": Case(R.bad_records, lambda: _lines(lambda f: f.update(note=1))),
    "seq a string": Case(R.bad_records, lambda: _lines(lambda f: f.update(seq="41"))),
    "id a uuid1": Case(
        R.bad_records, lambda: _lines(lambda f: f.update(id="a8098c1a-f86e-11da-bd1a-00112444be1e"))
    ),
    "at with an offset": Case(
        R.bad_records, lambda: _lines(lambda f: f.update(at="2026-11-30T15:59:12+08:00"))
    ),
    "type empty": Case(R.bad_records, lambda: _lines(lambda f: f.update(type=""))),
    "type a number": Case(R.bad_records, lambda: _lines(lambda f: f.update(type=7))),
    "data a list": Case(R.bad_records, lambda: _lines(lambda f: f.update(data=[]))),
    "files a string": Case(R.bad_records, lambda: _lines(lambda f: f.update(files=HELLO_SHA))),
    "a file hash in capitals": Case(
        R.bad_records, lambda: _lines(lambda f: f.update(files=[HELLO_SHA.upper()]))
    ),
    "a file named twice": Case(
        R.bad_records, lambda: _lines(lambda f: f.update(files=[HELLO_SHA] * 2))
    ),
    "NaN in data": Case(
        R.bad_records,
        lambda: _lines(raw=record_line(sample_records()[0]).replace(b'"WB-2026-0001"', b"NaN")),
    ),
    "a repeated id": Case(
        R.bad_records, lambda: _lines(None, lambda f: f.update(id=str(uuid4(41))))
    ),
    "seqs 41, 43": Case(R.seq_mismatch, lambda: _lines(None, lambda f: f.update(seq=43))),
    "starting at 40": Case(R.seq_mismatch, lambda: _lines(lambda f: f.update(seq=40))),
    "one record short": Case(R.seq_mismatch, lambda: _lines(raw=record_line(sample_records()[0]))),
    "one record too many": Case(
        R.seq_mismatch,
        lambda: _lines(
            raw=b"".join(record_line(r) for r in sample_records(41) + sample_records(43)[:1])
        ),
    ),
    "no records where two are due": Case(R.seq_mismatch, lambda: _lines(raw=b"")),
    "a record naming a file not in the bundle": Case(
        R.record_file_unlisted,
        lambda: _lines(lambda f: f.update(files=[hashlib.sha256(b"x").hexdigest()])),
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_failure_is_refused_with_its_reason(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = case.make()
    for name, value in case.limits.items():
        monkeypatch.setattr(verify_module, name, value)
    keys = KEYS if case.keys is None else case.keys
    result = verify_bundle(data, me=case.me, peer=case.peer, keys=keys)
    assert isinstance(result, Refusal), "accepted"
    assert result.reason == case.reason, result.message
    assert CJK.search(result.message)


UNREADABLE = (
    "a byte flipped in deflated records",
    "a byte flipped in a deflated file",
    "records declared shorter than they inflate",
    "manifest not JSON",
    "manifest not UTF-8",
    "a line not JSON",
    "a line not UTF-8",
)
# what may stay Latin in a reason: member names, hashes, and the names of the formats
NAMES = re.compile(r"records\.ndjson|manifest\.json|files/[0-9a-f]{64}|JSON|UTF-8|CRC")


@pytest.mark.parametrize("name", UNREADABLE)
def test_an_unreadable_member_is_explained_in_chinese(name: str) -> None:
    """The reason is what the desk shows the administrator: Python's English messages
    (``Bad CRC-32 for file …``, ``Expecting value …``, ``'utf-8' codec can't decode …``) are
    put in Chinese."""
    result = verify_bundle(CASES[name].make(), me=Node.intranet, peer=Node.portal, keys=KEYS)
    assert isinstance(result, Refusal)
    assert not re.search(r"[A-Za-z]{3,}", NAMES.sub("", result.message)), result.message


def test_every_reason_has_a_case() -> None:
    assert {case.reason for case in CASES.values()} == set(RefusalReason)


def test_the_bundle_verifies_before_any_surgery() -> None:
    """The cases start from a bundle that verifies, so each refusal is the surgery's doing."""
    assert isinstance(
        verify_bundle(GOOD, me=Node.intranet, peer=Node.portal, keys=KEYS), VerifiedBundle
    )
    assert isinstance(repack(GOOD, manifest=_fields()), bytes)
    assert isinstance(
        verify_bundle(
            repack(GOOD, manifest=_fields()), me=Node.intranet, peer=Node.portal, keys=KEYS
        ),
        VerifiedBundle,
    )
    assert isinstance(
        verify_bundle(_lines(), me=Node.intranet, peer=Node.portal, keys=KEYS), VerifiedBundle
    )
    ack_only = verify_bundle(_ack_only(), me=Node.intranet, peer=Node.portal, keys=KEYS)
    assert isinstance(ack_only, VerifiedBundle)


def _accepted(data: bytes, keys: Any = KEYS) -> VerifiedBundle:
    result = verify_bundle(data, me=Node.intranet, peer=Node.portal, keys=keys)
    assert isinstance(result, VerifiedBundle), result
    return result


def test_a_key_retired_after_the_bundle_was_signed_still_verifies_it() -> None:
    later = keys_by_id([PeerKey(raw_public_key(KEY), retired_at=CREATED + timedelta(seconds=1))])
    assert _accepted(GOOD, later).manifest.key_id == KEY_ID


def test_the_peer_may_write_members_in_any_order_stored_or_without_the_last_newline() -> None:
    """What the contract leaves open is accepted: member order, stored (uncompressed) members,
    the newline after the last record, CRLF line ends, spacing in the manifest."""
    expected = _accepted(GOOD)
    reordered = pack(list(reversed(unpack(GOOD).items())))
    assert _accepted(reordered) == expected
    assert _accepted(pack(unpack(GOOD), compression=0)) == expected
    without_newline = repack(
        GOOD,
        members=lambda p: p.update({"records.ndjson": p["records.ndjson"][:-1]}),
        manifest=_fields(),
    )
    assert _accepted(without_newline).records == expected.records
    spaced = repack(GOOD, manifest=lambda f: None)  # json.dumps with spaces, same fields
    assert _accepted(spaced).records == expected.records
    crlf = repack(
        GOOD,
        members=lambda p: p.update({"records.ndjson": p["records.ndjson"].replace(b"\n", b"\r\n")}),
        manifest=_fields(),
    )
    assert _accepted(crlf).records == expected.records


def test_a_bundle_for_the_portal_verifies_on_the_portal() -> None:
    built = build_bundle(
        source=Node.intranet,
        target=Node.portal,
        first_seq=1,
        records=[],
        files=[],
        ack=42,
        private_key=OTHER_KEY,
        bundle_id=uuid4(9),
        created_at=CREATED,
    )
    theirs = keys_by_id([PeerKey(raw_public_key(OTHER_KEY))])
    result = verify_bundle(built.data, me=Node.portal, peer=Node.intranet, keys=theirs)
    assert isinstance(result, VerifiedBundle)
    assert result.manifest.ack == 42
    refused = verify_bundle(built.data, me=Node.portal, peer=Node.intranet, keys=KEYS)
    assert isinstance(refused, Refusal)
    assert refused.reason == R.unknown_key
