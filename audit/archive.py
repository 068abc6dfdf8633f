"""The S3 archive: each day's events as JSON Lines, plus the chain head, so the log
outlives the database and verify_audit can compare the database with what was exported.

Layout under settings.AUDIT_ARCHIVE_PREFIX (default "_audit/", which no organisation slug
can start with):
  events/YYYY/MM/DD/part-00001.jsonl   the day's events in chain order, at most
                                       AUDIT_ARCHIVE_CHUNK_EVENTS per part
  heads/<seq, 20 digits>.json          the chain head when an archive ran

Enable S3 Object Lock (default retention, compliance mode) on the bucket so no one, the
portal included, can remove or overwrite archived versions.
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from audit import export
from audit.models import AuditEvent


def storage() -> Any:
    """Where the archive goes: the object named by AUDIT_ARCHIVE_STORAGE (the portal's S3
    layer), with put_object(key, body, content_type), list_keys(prefix) and
    get_object_bytes(key). Named in settings so audit imports nothing above it."""
    return import_string(settings.AUDIT_ARCHIVE_STORAGE)


def prefix() -> str:
    return getattr(settings, "AUDIT_ARCHIVE_PREFIX", "_audit/")


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_prefix(day: date) -> str:
    return f"{prefix()}events/{day:%Y/%m/%d}/"


def archive_day(day: date) -> list[str]:
    """Write the day's events (UTC) to S3 in parts; the keys written."""
    start, end = _day_bounds(day)
    qs = AuditEvent.objects.filter(created_at__gte=start, created_at__lt=end).order_by("seq")
    per_part = getattr(settings, "AUDIT_ARCHIVE_CHUNK_EVENTS", 100_000)
    keys: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        key = f"{day_prefix(day)}part-{len(keys) + 1:05d}.jsonl"
        storage().put_object(key, "".join(lines).encode(), "application/x-ndjson")
        keys.append(key)
        lines.clear()

    for line in export.jsonl_lines(export.rows(qs)):
        lines.append(line)
        if len(lines) >= per_part:
            flush()
    if lines or not keys:
        flush()  # An empty part still says "this day was archived and had no events".
    return keys


def current_head() -> dict[str, Any]:
    last = AuditEvent.objects.exclude(seq=None).order_by("-seq").values("seq", "hash", "created_at").first()
    if last is None:
        return {"seq": 0, "hash": "0" * 64, "created_at": None}
    return {"seq": last["seq"], "hash": last["hash"], "created_at": last["created_at"].isoformat()}


def export_head(**extra: Any) -> tuple[str, dict[str, Any]]:
    head = current_head() | {"archived_at": timezone.now().isoformat()} | extra
    key = f"{prefix()}heads/{head['seq']:020d}.json"
    storage().put_object(key, json.dumps(head, sort_keys=True).encode(), "application/json")
    return key, head


def latest_archived_head() -> dict[str, Any] | None:
    keys = sorted(k for k in storage().list_keys(f"{prefix()}heads/") if k.endswith(".json"))
    if not keys:
        return None
    return json.loads(storage().get_object_bytes(keys[-1]))


def archived_days() -> set[date]:
    days = set()
    for key in storage().list_keys(f"{prefix()}events/"):
        parts = key[len(prefix()) :].split("/")  # events/YYYY/MM/DD/part-...
        if len(parts) == 5:
            days.add(date(int(parts[1]), int(parts[2]), int(parts[3])))
    return days


def archive_pending(today: date | None = None) -> dict[str, Any]:
    """Archive every finished day not archived yet (catching up after missed runs), then
    export the chain head. Audited."""
    import audit

    today = today or timezone.now().astimezone(UTC).date()
    first = AuditEvent.objects.order_by("seq").values_list("created_at", flat=True).first()
    done = archived_days()
    written: dict[str, list[str]] = {}
    if first is not None:
        day = first.astimezone(UTC).date()
        while day < today:
            if day not in done:
                written[day.isoformat()] = archive_day(day)
            day += timedelta(days=1)
    head_key, head = export_head(days=sorted(written))
    audit.record(
        "audit.archived",
        actor_label="system",
        day=(today - timedelta(days=1)).isoformat(),
        keys=[k for ks in written.values() for k in ks],
        count=sum(len(ks) for ks in written.values()),
        head_seq=head["seq"],
        head_hash=head["hash"],
        head_key=head_key,
    )
    return {"days": written, "head_key": head_key, "head": head}
