"""Notifications through an outbox: staff emails, customer receipts, project webhooks.

Queueing (`notify_*`) happens in the same transaction as the state change it reports, and
adds an item with a unique dedupe key to the group's one pending Notification; so an event
is queued once however often a task runs, and a folder of 500 files is one message.
Sending (`deliver`) claims the row first, so two workers never send the same message.

The one window left: a worker killed after the mail server accepted a message but before
the row was marked sent. The claim then expires and the message is sent again (at least
once, never silently lost)."""

import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

import audit
from uploads import channels
from uploads.leases import checkpoint
from uploads.models import Notification, NotificationItem, Upload

log = logging.getLogger(__name__)

Kind = Notification.Kind
# An upload in one of these may still settle, so its batch's message waits for it.
UNSETTLED = Upload.UNSETTLED
RESULT_KINDS = (Kind.STAFF_RESULTS, Kind.RECEIPT, Kind.WEBHOOK)


BATCH_IN_GROUP = re.compile(r"batch:([0-9a-f-]{36})")


def _group(upload: Upload) -> str:
    # A batch id comes from the customer's browser: two tenants can send the same one, so
    # a batch is only ever a batch within its project.
    if upload.batch_id:
        return f"project:{upload.project_id}:batch:{upload.batch_id}"
    return f"upload:{upload.pk}"


def _queue(
    kind: str,
    group_key: str,
    upload: Upload,
    event: str,
    dedupe_key: str,
    *,
    recipient=None,
    wait: bool = True,
    data: dict[str, Any] | None = None,
) -> bool:
    """Add one event to the group's pending message. False if it was already queued."""
    now = timezone.now()
    quiet = timedelta(seconds=settings.NOTIFY_BATCH_QUIET_SECONDS if wait else 0)
    if NotificationItem.objects.filter(dedupe_key=dedupe_key).exists():
        return False
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .filter(
                kind=kind, group_key=group_key, project=upload.project, status=Notification.Status.PENDING
            )
            .first()
        )
        if notification is None:
            try:
                with transaction.atomic():
                    notification = Notification.objects.create(
                        kind=kind,
                        group_key=group_key,
                        project=upload.project,
                        recipient=recipient,
                        not_before=now + quiet,
                        send_by=now + timedelta(seconds=settings.NOTIFY_BATCH_MAX_WAIT_SECONDS),
                    )
            except IntegrityError:
                # Another transaction opened the group's message first: join it.
                notification = Notification.objects.select_for_update().get(
                    kind=kind, group_key=group_key, project=upload.project, status=Notification.Status.PENDING
                )
        elif notification.attempts == 0:
            # Wait for the rest of the batch; never past send_by.
            notification.not_before = min(now + quiet, notification.send_by)
            notification.save(update_fields=["not_before"])
        try:
            with transaction.atomic():
                NotificationItem.objects.create(
                    notification=notification,
                    upload=upload,
                    event=event,
                    dedupe_key=dedupe_key,
                    data=data or {},
                )
        except IntegrityError:
            return False
    return True


def notify_settled(upload: Upload) -> None:
    """Queue the staff email, the customer's receipt and the webhook for a verified,
    failed or received-unverified upload. Call inside the transaction that settles it."""
    event = upload.status
    group = _group(upload)
    _queue(Kind.STAFF_RESULTS, group, upload, event, f"staff:{upload.pk}:settled")
    if upload.uploaded_by_id and upload.uploaded_by.email:
        _queue(
            Kind.RECEIPT,
            f"{group}:user:{upload.uploaded_by_id}",
            upload,
            event,
            f"receipt:{upload.pk}:settled",
            recipient=upload.uploaded_by,
        )
    if upload.project.webhook_url:
        _queue(Kind.WEBHOOK, group, upload, event, f"webhook:{upload.pk}:settled")


def notify_stalled(upload: Upload) -> bool:
    return _queue(
        Kind.STAFF_STALLED,
        f"project:{upload.project_id}",
        upload,
        "stalled",
        f"staff:{upload.pk}:stalled",
        wait=False,
        data={"bytes_confirmed": upload.bytes_confirmed},
    )


def notify_tampering(upload: Upload, version_id: str, detail: str) -> bool:
    return _queue(
        Kind.STAFF_TAMPERING,
        f"project:{upload.project_id}",
        upload,
        "tampering",
        f"staff:{upload.pk}:tampering:{version_id}",
        wait=False,
        data={"version_id": version_id, "detail": detail},
    )


def notify_missing(upload: Upload, detail: str) -> bool:
    # Told once per recorded version, however many sweeps find it gone.
    return _queue(
        Kind.STAFF_TAMPERING,
        f"project:{upload.project_id}",
        upload,
        "missing",
        f"staff:{upload.pk}:missing:{upload.version_id}",
        wait=False,
        data={"version_id": upload.version_id, "detail": detail},
    )


def notify_delivery_complete(upload: Upload, *, files: list[str]) -> bool:
    """Queue the one staff message saying the project's delivery is complete; `upload` is
    the one whose verification completed it. Told once per project."""
    return _queue(
        Kind.STAFF_DELIVERY,
        f"project:{upload.project_id}:delivery",
        upload,
        "delivery_complete",
        f"staff:project:{upload.project_id}:delivery_complete",
        wait=False,
        data={"files": files},
    )


def due_ids(limit: int = 200) -> list[int]:
    """Pending messages whose time has come, plus claims left behind by a dead worker."""
    now = timezone.now()
    pending = Notification.objects.filter(status=Notification.Status.PENDING, not_before__lte=now)
    ready = []
    for n in pending.order_by("not_before")[:limit]:
        if n.kind in RESULT_KINDS and n.send_by > now and _batch_unsettled(n):
            continue
        ready.append(n.pk)
    abandoned = Notification.objects.filter(status=Notification.Status.SENDING, claimed_until__lt=now)
    ready += list(abandoned.values_list("pk", flat=True)[:limit])
    return ready


def _batch_unsettled(notification: Notification) -> bool:
    match = BATCH_IN_GROUP.search(notification.group_key)
    if not match:
        return False
    batch_id = match.group(1)
    return Upload.objects.filter(
        project_id=notification.project_id, batch_id=batch_id, status__in=UNSETTLED
    ).exists()


def _claim(notification_id: int) -> Notification | None:
    now = timezone.now()
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id)
            .filter(
                Q(status=Notification.Status.PENDING, not_before__lte=now)
                | Q(status=Notification.Status.SENDING, claimed_until__lt=now)
            )
            .first()
        )
        if n is None:
            return None
        if (
            n.status == Notification.Status.PENDING
            and n.kind in RESULT_KINDS
            and n.send_by > now
            and _batch_unsettled(n)
        ):
            return None
        n.status = Notification.Status.SENDING
        n.claimed_until = now + timedelta(seconds=settings.TASK_LEASE_SECONDS)
        n.attempts += 1
        n.save(update_fields=["status", "claimed_until", "attempts"])
    return n


def deliver(notification_id: int) -> str:
    """Send one message if it is due and nobody else is sending it. Returns its status."""
    n = _claim(notification_id)
    if n is None:
        return "skipped"
    checkpoint("notify.claimed")
    items = list(n.items.select_related("upload", "upload__uploaded_by", "upload__verification"))
    try:
        channels.for_kind(n.kind).send(n, items)
    except channels.Refused as exc:
        return _give_up(n, str(exc))
    except channels.Failed as exc:
        if not exc.retry or n.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            return _give_up(n, str(exc))
        return _retry_later(n, str(exc))
    except Exception as exc:  # noqa: BLE001 - SMTP and template errors alike are retried
        log.exception("Sending notification %s failed", n.pk)
        if n.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
            return _give_up(n, f"{exc.__class__.__name__}: {exc}")
        return _retry_later(n, f"{exc.__class__.__name__}: {exc}")
    with transaction.atomic():
        Notification.objects.filter(pk=n.pk).update(
            status=Notification.Status.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
        )
        audit.record(
            "notification.sent",
            target=n.project,
            kind=n.kind,
            notification=n.pk,
            uploads=[str(i.upload_id) for i in items],
        )
    return Notification.Status.SENT


def _retry_later(n: Notification, error: str) -> str:
    # Exponential backoff: 30 s, 60 s, 2 min ... capped at an hour.
    delay = min(3600, 30 * 2 ** (n.attempts - 1))
    with transaction.atomic():
        other = (
            Notification.objects.select_for_update()
            .filter(kind=n.kind, group_key=n.group_key, status=Notification.Status.PENDING)
            .exclude(pk=n.pk)
            .first()
        )
        if other is not None:
            # New items opened a fresh message meanwhile: fold ours into it.
            n.items.update(notification=other)
            Notification.objects.filter(pk=n.pk).update(
                status=Notification.Status.SENT, sent_at=timezone.now(), last_error=f"merged into {other.pk}"
            )
            return Notification.Status.PENDING
        Notification.objects.filter(pk=n.pk).update(
            status=Notification.Status.PENDING,
            not_before=timezone.now() + timedelta(seconds=delay),
            claimed_until=None,
            last_error=error[:1000],
        )
    return Notification.Status.PENDING


def _give_up(n: Notification, error: str) -> str:
    with transaction.atomic():
        Notification.objects.filter(pk=n.pk).update(
            status=Notification.Status.FAILED, claimed_until=None, last_error=error[:1000]
        )
        audit.record("notification.failed", target=n.project, kind=n.kind, notification=n.pk, error=error)
    return Notification.Status.FAILED
