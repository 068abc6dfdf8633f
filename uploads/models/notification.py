"""Staff notifications: one message per recipient and channel, with the uploads it reports."""

from django.conf import settings
from django.db import models

from uploads.models.project import UploadProject
from uploads.models.upload import Upload


class Notification(models.Model):
    """One message to send (an email or a webhook call), written in the same transaction
    as the state change it reports. Items are added while it is pending, so a folder of
    500 files becomes one message; the sender claims it, so it goes out once."""

    class Kind(models.TextChoices):
        STAFF_RESULTS = "staff_results", "Staff: files verified or failed"
        RECEIPT = "receipt", "Customer receipt"
        WEBHOOK = "webhook", "Project webhook"
        STAFF_STALLED = "staff_stalled", "Staff: uploads stalled"
        STAFF_TAMPERING = "staff_tampering", "Staff: stored object changed"
        STAFF_DELIVERY = "staff_delivery", "Staff: delivery complete"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Items with the same kind and group share one message, e.g. "batch:<uuid>".
    group_key = models.CharField(max_length=200)
    project = models.ForeignKey(UploadProject, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # Not sent before this (bumped as items arrive, so a batch settles first).
    not_before = models.DateTimeField()
    # Sent by this time even if some of the batch is still in flight.
    send_by = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "not_before"])]
        constraints = [
            # At most one open message per group: new items join it instead of starting another.
            models.UniqueConstraint(
                fields=["kind", "group_key"],
                condition=models.Q(status="pending"),
                name="one_pending_notification_per_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.group_key}, {self.status})"


class NotificationItem(models.Model):
    """One event in a notification. dedupe_key is unique, so the same event (say "upload X
    verified, told to staff") can never be queued twice, however often a task runs."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="items")
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="notification_items")
    event = models.CharField(max_length=30)
    dedupe_key = models.CharField(max_length=300, unique=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.dedupe_key
