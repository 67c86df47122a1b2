"""Where a verified bundle stands against the receiver's ``applied_upto`` (SYNC.md "Receiving",
step 2): nothing new, records to apply from the next seq on, or a gap before it.

Kept apart from applying so the rule is one pure function the server's applier, its status
report and the portal stand-in all use. The bundle's ``ack`` is not part of the answer: it
releases the receiver's own records whatever the records of the bundle are.
"""

from dataclasses import dataclass

from shared.sync.bundle import Record
from shared.sync.verify import VerifiedBundle


@dataclass(frozen=True)
class Duplicate:
    """Every record is at or below ``applied_upto`` (or an ack-only bundle that is caught up):
    nothing to apply."""


@dataclass(frozen=True)
class Applicable:
    """``records`` are the bundle's records above ``applied_upto``, the first of them its
    next seq; those below were applied before and are skipped."""

    records: tuple[Record, ...]

    @property
    def from_seq(self) -> int:
        return self.records[0].seq


@dataclass(frozen=True)
class Gap:
    """The bundle starts past ``applied_upto + 1``: seqs ``missing_from``…``missing_to`` have
    not arrived, so the bundle waits. For an ack-only bundle the range is what the peer has
    numbered and this node never received; there is nothing to hold."""

    missing_from: int
    missing_to: int


Classification = Duplicate | Applicable | Gap


def classify(bundle: VerifiedBundle, applied_upto: int) -> Classification:
    if applied_upto < 0:
        raise ValueError("applied_upto is never negative")
    manifest = bundle.manifest
    if manifest.last_seq <= applied_upto:
        return Duplicate()
    if manifest.first_seq > applied_upto + 1:
        return Gap(applied_upto + 1, manifest.first_seq - 1)
    return Applicable(tuple(r for r in bundle.records if r.seq > applied_upto))
