"""Walk the hash chain and name the first broken event.

A chain kept only in the database can be recomputed by whoever controls the database, so
the check also compares the database with the latest chain head exported to S3
(audit.archive): removing the newest events, or rewriting the chain behind the last
export, is caught there."""

from dataclasses import dataclass

from audit import chain
from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent


@dataclass
class Result:
    ok: bool
    checked: int
    reason: str = ""
    broken_id: int | None = None
    broken_seq: int | None = None
    archived_seq: int | None = None

    def __str__(self) -> str:
        if self.ok:
            archived = f"; matches the archived head #{self.archived_seq}" if self.archived_seq else ""
            return f"OK: {self.checked} events, chain intact{archived}."
        where = f"event id={self.broken_id} seq={self.broken_seq}: " if self.broken_id else ""
        return f"BROKEN after {self.checked} good events: {where}{self.reason}"


def verify_chain(*, archived_head: dict | None = None, chunk_size: int = 5000) -> Result:
    """Check every event's hash and link, then the chain head row and, when given, the
    head last exported to the archive ({"seq": int, "hash": str})."""
    unchained = AuditEvent.objects.filter(seq=None).values_list("id", flat=True).first()
    if unchained is not None:
        return Result(False, 0, "event is outside the hash chain (no sequence number)", unchained)

    fields = ("id", *chain.HASHED_FIELDS, "hash")
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    archived_hash_seen = None
    qs = AuditEvent.objects.order_by("seq").values(*fields)
    for row in qs.iterator(chunk_size=chunk_size):
        seq, event_id = row["seq"], row["id"]
        if seq != expected_seq:
            return Result(
                False,
                checked,
                f"events #{expected_seq}..#{seq - 1} are missing before this one",
                event_id,
                seq,
            )
        if row["prev_hash"] != prev_hash:
            return Result(False, checked, "prev_hash does not match the previous event's hash", event_id, seq)
        if chain.compute_hash(row) != row["hash"]:
            return Result(False, checked, "content does not match its hash (edited)", event_id, seq)
        if archived_head and seq == archived_head["seq"]:
            archived_hash_seen = row["hash"]
        prev_hash = row["hash"]
        expected_seq += 1
        checked += 1

    last_seq = expected_seq - 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is None and last_seq > 0:
        return Result(False, checked, "the chain head row is missing")
    if head is not None and (head.seq, head.hash) != (last_seq, prev_hash):
        return Result(
            False,
            checked,
            f"the chain head says #{head.seq} but the last event is #{last_seq}: "
            "events after it were removed",
        )
    if archived_head:
        if archived_head["seq"] > last_seq:
            return Result(
                False,
                checked,
                f"the archive's head is event #{archived_head['seq']} but the database ends at "
                f"#{last_seq}: events were removed",
                archived_seq=archived_head["seq"],
            )
        if archived_hash_seen != archived_head["hash"]:
            return Result(
                False,
                checked,
                f"event #{archived_head['seq']} differs from the archived head: the chain was rewritten",
                archived_seq=archived_head["seq"],
            )
    return Result(True, checked, archived_seq=archived_head["seq"] if archived_head else None)
