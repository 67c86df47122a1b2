"""A flipped byte anywhere in a bundle is refused, or, where it lands in ZIP bookkeeping that
does not change a member (a timestamp, an attribute), the bundle verifies to exactly the
content that was signed: never to anything else, and never with an exception."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.sync.keys import Node
from shared.sync.refusals import Refusal
from shared.sync.verify import VerifiedBundle, verify_bundle
from tests.shared.sync_craft import KEYS, portal_bundle

GOOD = portal_bundle().data
SIGNED = verify_bundle(GOOD, me=Node.intranet, peer=Node.portal, keys=KEYS)


def _flipped(position: int, mask: int) -> bytes:
    return GOOD[:position] + bytes([GOOD[position] ^ mask]) + GOOD[position + 1 :]


def _check(position: int, mask: int) -> bool:
    """True when the flip was refused, False when it verified (to the signed content)."""
    result = verify_bundle(_flipped(position, mask), me=Node.intranet, peer=Node.portal, keys=KEYS)
    if isinstance(result, Refusal):
        return True
    assert result == SIGNED, f"byte {position} ^ {mask:#04x} verified to other content"
    return False


def test_the_bundle_verifies_unflipped() -> None:
    assert isinstance(SIGNED, VerifiedBundle)


@pytest.mark.parametrize("mask", [0x01, 0x80, 0xFF])
def test_every_single_byte_flip(mask: int) -> None:
    refused = sum(_check(position, mask) for position in range(len(GOOD)))
    # most of a bundle is deflated content, names, sizes and hashes: far more flips are refused
    # than land in bookkeeping; the sum keeps the loop honest that it ran over every byte
    assert refused > len(GOOD) // 2


@settings(max_examples=300, deadline=None)
@given(position=st.integers(0, len(GOOD) - 1), mask=st.integers(1, 255))
def test_any_single_byte_flip(position: int, mask: int) -> None:
    _check(position, mask)
