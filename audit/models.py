from django.conf import settings
from django.db import models
from django.utils import timezone

GENESIS_HASH = "0" * 64


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    # The log is append-only: the ORM refuses bulk changes, and PostgreSQL refuses them
    # again in a trigger (migration 0002) for code that bypasses the ORM.
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are written one at a time through audit.record().")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    _raw_delete = delete


class AuditEvent(models.Model):
    """One security-relevant action. Written only through audit.record().

    Foreign keys are DO_NOTHING without database constraints: deleting a user or an
    organisation must neither cascade into the log nor try to null its columns (which the
    append-only trigger would refuse). The *_label columns keep the names."""

    seq = models.BigIntegerField(unique=True, null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    # Kept as text too, so the event still says who it was after the user is deleted.
    actor_label = models.CharField(max_length=255, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name="organisation",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    project = models.ForeignKey(
        "uploads.UploadProject",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=255, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # Tamper evidence: SHA-256 over this event's canonical content and prev_hash.
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "-id"]),
            models.Index(fields=["project", "-id"]),
            models.Index(fields=["actor", "-id"]),
            models.Index(fields=["action", "-id"]),
            models.Index(fields=["project", "action", "-id"], name="audit_project_action_idx"),
            models.Index(fields=["target_id"], name="audit_target_id_idx"),
            models.Index(fields=["ip", "-id"], name="audit_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} by {self.actor_label or 'system'}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None or not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The single row every writer locks before appending, so the chain never forks.
    It mirrors the last event; verify_audit checks that it does."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"chain head #{self.seq}"
