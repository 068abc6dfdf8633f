"""The hash chain: canonical form of an event, its SHA-256, and appending under a lock.

Each event's hash covers its own content and the previous event's hash, so changing,
inserting or removing any event breaks every later link. Writers serialise on the single
AuditChainHead row: the lock is taken inside the writer's transaction and held until it
commits, so two writers can never append to the same head (which would fork the chain).
"""

import hashlib
import ipaddress
import json
import random
import time
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, OperationalError, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from audit.models import GENESIS_HASH, AuditChainHead, AuditEvent

SQLITE_ATTEMPTS = 20

# Columns covered by the hash, in this order. Changing this list breaks verification of
# existing events: add a version field instead.
HASHED_FIELDS = (
    "seq",
    "created_at",
    "action",
    "actor_id",
    "actor_label",
    "ip",
    "user_agent",
    "organization_id",
    "project_id",
    "target_type",
    "target_id",
    "target_label",
    "data",
    "prev_hash",
)


def normalise_data(data: dict[str, Any]) -> dict[str, Any]:
    """The data exactly as it will read back from the JSON column."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _canonical_ip(ip: str | None) -> str | None:
    # PostgreSQL's inet type may print an address differently from how it was written.
    return str(ipaddress.ip_address(ip)) if ip else None


def _valid_ip(ip: str | None) -> str | None:
    # A forwarded-for header can carry anything; the log keeps only real addresses.
    try:
        return _canonical_ip(ip)
    except ValueError:
        return None


def _canonical_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    content = {name: fields[name] for name in HASHED_FIELDS}
    content["created_at"] = _canonical_time(content["created_at"])
    content["ip"] = _canonical_ip(content["ip"])
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def compute_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def _locked_head(using: str) -> AuditChainHead:
    connection = connections[using]
    heads = AuditChainHead.objects.using(using)
    if connection.vendor != "postgresql":
        # SQLite ignores SELECT ... FOR UPDATE; a write takes its database lock, so
        # touch the row before reading it.
        heads.filter(pk=1).update(seq=F("seq"))
    head = heads.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    # No head row (a fresh or flushed database): start it from the last event, if any.
    last = AuditEvent.objects.using(using).exclude(seq=None).order_by("-seq").values("seq", "hash").first()
    try:
        with transaction.atomic(using=using):
            AuditChainHead.objects.using(using).create(
                pk=1, seq=last["seq"] if last else 0, hash=last["hash"] if last else GENESIS_HASH
            )
    except IntegrityError:
        pass  # Another writer created it first; lock theirs.
    return heads.select_for_update().get(pk=1)


def append(fields: dict[str, Any]) -> AuditEvent:
    """Write one event at the head of the chain. Works inside a caller's transaction (the
    head stays locked until it commits) and outside one."""
    using = router.db_for_write(AuditEvent)
    if connections[using].vendor != "sqlite":
        return _append(fields, using)
    # SQLite answers "database is locked" at once, whatever the timeout, when two
    # deferred transactions both want to write; the unlucky one can simply try again.
    for attempt in range(SQLITE_ATTEMPTS):
        try:
            return _append(fields, using)
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == SQLITE_ATTEMPTS - 1:
                raise
            time.sleep(0.02 * (attempt + 1) + random.random() * 0.02)
    raise AssertionError("unreachable")


def _append(fields: dict[str, Any], using: str) -> AuditEvent:
    with transaction.atomic(using=using):
        head = _locked_head(using)
        # Stamped under the lock, so times never go backwards along the chain.
        fields = dict(fields, seq=head.seq + 1, prev_hash=head.hash, created_at=timezone.now())
        fields["ip"] = _valid_ip(fields.get("ip"))
        fields["data"] = normalise_data(fields.get("data") or {})
        fields["hash"] = compute_hash(fields)
        event = AuditEvent(**fields)
        event.save(using=using)
        AuditChainHead.objects.using(using).filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def event_fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}
