"""Where a verified bundle stands against ``applied_upto``: duplicate, applicable from the next
seq, or a gap with its range; ack-only bundles included."""

import pytest

from shared.sync.bundle import Manifest, Record
from shared.sync.classify import Applicable, Duplicate, Gap, classify
from shared.sync.keys import Node
from shared.sync.verify import VerifiedBundle, verify_bundle
from tests.shared.sync_craft import CREATED, KEY_ID, KEYS, portal_bundle, uuid4


def _bundle(first_seq: int, last_seq: int) -> VerifiedBundle:
    records = tuple(
        Record(seq=seq, id=uuid4(seq), type="payment.confirmed", at=CREATED, data={})
        for seq in range(first_seq, last_seq + 1)
    )
    manifest = Manifest(
        bundle_id=uuid4(0),
        source=Node.portal,
        target=Node.intranet,
        key_id=KEY_ID,
        created_at=CREATED,
        first_seq=first_seq,
        last_seq=last_seq,
        ack=0,
        records_sha256="0" * 64,
    )
    return VerifiedBundle(manifest, records, {})


@pytest.mark.parametrize(
    ("first", "last", "applied_upto", "expected"),
    [
        (41, 57, 57, Duplicate()),
        (41, 57, 100, Duplicate()),
        (41, 57, 40, (41, 57)),
        (41, 57, 0, Gap(1, 40)),
        (41, 57, 39, Gap(40, 40)),
        (41, 57, 45, (46, 57)),
        (41, 57, 56, (57, 57)),
        (1, 1, 0, (1, 1)),
        (1, 3, 0, (1, 3)),
        # ack-only: first_seq is the sender's next seq
        (58, 57, 57, Duplicate()),
        (58, 57, 60, Duplicate()),
        (1, 0, 0, Duplicate()),
        (58, 57, 50, Gap(51, 57)),
        (58, 57, 0, Gap(1, 57)),
    ],
)
def test_classify(first: int, last: int, applied_upto: int, expected: object) -> None:
    result = classify(_bundle(first, last), applied_upto)
    if isinstance(expected, tuple):
        assert isinstance(result, Applicable)
        assert [r.seq for r in result.records] == list(range(expected[0], expected[1] + 1))
        assert result.from_seq == applied_upto + 1
    else:
        assert result == expected


def test_a_verified_bundle_classifies() -> None:
    bundle = verify_bundle(portal_bundle().data, me=Node.intranet, peer=Node.portal, keys=KEYS)
    assert isinstance(bundle, VerifiedBundle)
    applicable = classify(bundle, 41)
    assert isinstance(applicable, Applicable)
    assert [r.type for r in applicable.records] == ["payment.confirmed"]
    assert classify(bundle, 42) == Duplicate()
    assert classify(bundle, 38) == Gap(39, 40)


def test_applied_upto_is_never_negative() -> None:
    with pytest.raises(ValueError):
        classify(_bundle(1, 1), -1)
