"""The QR payload codec, the status list and offline verification, without a server."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
import segno

from shared.certificate_payload import (
    ALGORITHMS,
    MAX_TEXT,
    PREFIX,
    Claims,
    IntegrityResult,
    PayloadError,
    PublicKeyInfo,
    b45decode,
    b45encode,
    body,
    decode,
    encode,
    key_id_of,
)
from shared.certificate_status_list import MIN_SIZE, StatusListError, StatusResult, build, read
from shared.certificate_verification import (
    ExpiryResult,
    KeyResult,
    dump_public_keys,
    load_public_keys,
    verify,
)

ED = ALGORITHMS["ed25519"]
LONG_NAME = "阿卜杜热合曼·买买提明·艾合买提江·吐尔"  # 20 characters, one of them two bytes
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _key(valid_from: datetime = T0 - timedelta(days=30), valid_until: datetime | None = None):  # type: ignore[no-untyped-def]
    pem, public = ED.generate()
    private, _ = ED.load_private(pem)
    info = PublicKeyInfo(key_id_of("ed25519", public), "ed25519", public, valid_from, valid_until)
    return private, info


def _claims(key_id: str, **changes: object) -> Claims:
    claims = Claims(
        number="浙202600000001",
        name="张三",
        id_masked="330102********123X",
        issued_on=date(2026, 3, 2),
        expires_on=None,
        status_index=98765,
        key_id=key_id,
    )
    return replace(claims, **changes)  # type: ignore[arg-type]


def test_base45_round_trip() -> None:
    for data in (b"", b"\x00", b"AB", b"\xff\xff\xff", bytes(range(256))):
        decoded, clean = b45decode(b45encode(data))
        assert (decoded, clean) == (data, True)
    assert b45encode(b"AB") == "BB8"  # RFC 9285 §4.3


def test_round_trip_and_the_longest_name_fits_version_11_at_level_q() -> None:
    private, info = _key()
    claims = _claims(info.key_id, name=LONG_NAME, expires_on=date(2036, 3, 1))
    text = encode(claims, private)
    assert len(text) <= MAX_TEXT
    assert len(PREFIX) + len(b45encode(body(claims))) + 64 * 3 // 2 >= len(text) - 1
    qr = segno.make(text, error="q", boost_error=False)
    assert qr.mode == "alphanumeric"
    assert qr.version <= 11, (qr.version, len(text))
    decoded = decode(text)
    assert decoded.claims == claims


def test_a_name_past_the_budget_is_refused_when_encoding() -> None:
    private, info = _key()
    with pytest.raises(ValueError):
        encode(_claims(info.key_id, name="张" * 21), private)


def test_tampered_unknown_key_truncated_and_malformed_each_have_their_reason() -> None:
    private, info = _key()
    keys = {info.key_id: info}
    text = encode(_claims(info.key_id), private)
    assert verify(text, keys, today=date(2026, 3, 2), status=None).integrity == "intact"

    # tampered: the name changed and re-encoded without the key
    decoded = decode(text)
    forged_body = body(replace(decoded.claims, name="李四"))
    forged = PREFIX + b45encode(forged_body + decoded.signature)
    assert verify(forged, keys, today=date(2026, 3, 2), status=None).integrity == "tampered"

    # unknown key: genuinely signed, by a key nobody published
    other, other_info = _key()
    foreign = encode(_claims(other_info.key_id), other)
    assert verify(foreign, keys, today=date(2026, 3, 2), status=None).integrity == "unknown_key"

    # truncated: every cut is reported as such, never as tampered or valid
    for cut in (1, 2, 3, 10, 50, len(text) - len(PREFIX) - 1):
        result = verify(text[:-cut], keys, today=date(2026, 3, 2), status=None)
        assert result.integrity == IntegrityResult.truncated, cut
    assert verify("SG", keys, today=date(2026, 3, 2), status=None).integrity == "truncated"

    # malformed: not ours, lower case (not Base45), or extra bytes
    for bad in ("https://example.com", PREFIX + "abc", text + "00A"):
        assert verify(bad, keys, today=date(2026, 3, 2), status=None).integrity == "malformed"
    with pytest.raises(PayloadError) as err:
        decode(PREFIX + b45encode(b"\x21" + bytes(100)))
    assert err.value.reason == IntegrityResult.unsupported


def test_key_validity_at_issuance_and_expiry_are_separate_results() -> None:
    private, info = _key(valid_from=T0, valid_until=T0 + timedelta(days=10))
    keys = {info.key_id: info}
    valid_status = lambda claims: (StatusResult.valid, "")  # noqa: E731
    early = encode(_claims(info.key_id, issued_on=date(2026, 2, 1)), private)
    late = encode(_claims(info.key_id, issued_on=date(2026, 4, 1)), private)
    expired = encode(_claims(info.key_id, expires_on=date(2026, 3, 5)), private)
    today = date(2026, 3, 10)
    assert verify(early, keys, today=today, status=valid_status).key == KeyResult.not_yet_valid
    assert verify(late, keys, today=today, status=valid_status).key == KeyResult.retired
    result = verify(expired, keys, today=today, status=valid_status)
    assert (result.integrity, result.key, result.status, result.expiry) == (
        "intact",
        "valid",
        "valid",
        ExpiryResult.expired,
    )
    assert not result.valid and result.summary == "证书已超过有效期"


def test_status_list_signed_nibbles_and_ttl() -> None:
    private, info = _key()
    keys = {info.key_id: info}
    entries = {5: StatusResult.revoked, 6: StatusResult.replaced, 131071: StatusResult.cancelled}
    text = build(
        entries,
        size=MIN_SIZE,
        issued_at=T0,
        ttl_seconds=3600,
        key_id=info.key_id,
        algorithm="ed25519",
        private_key=private,
    )
    status_list = read(text, keys)
    now = T0 + timedelta(minutes=30)
    assert status_list.status_of(5, now) == StatusResult.revoked
    assert status_list.status_of(6, now) == StatusResult.replaced
    assert status_list.status_of(131071, now) == StatusResult.cancelled
    assert status_list.status_of(7, now) == StatusResult.valid
    assert status_list.status_of(MIN_SIZE, now) == StatusResult.unknown
    # older than its TTL: unknown, never valid
    assert status_list.status_of(7, T0 + timedelta(hours=1)) == StatusResult.unknown
    with pytest.raises(StatusListError):
        read(text.replace('"ttl_seconds": 3600', '"ttl_seconds": 999999'), keys)
    with pytest.raises(StatusListError):
        read(text, {})


def test_public_key_file_round_trip() -> None:
    _, info = _key(valid_until=T0)
    assert load_public_keys(dump_public_keys([info])) == {info.key_id: info}
    with pytest.raises(ValueError):
        load_public_keys('{"format": "x"}')
