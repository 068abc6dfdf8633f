"""Uploads, their parts and their states: the status sets and the one `transition()`."""

import uuid
from collections.abc import Iterable
from typing import Any, NoReturn

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

import audit
from uploads.models.project import UploadProject
from uploads.refusals import refuse


class Upload(models.Model):
    """One file sent to S3 by multipart upload. The row is the source of truth; S3 and
    the task queue are checked against it."""

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        UPLOADING = "uploading", "Uploading"
        STALLED = "stalled", "Stalled"
        COMPLETING = "completing", "Completing"
        UPLOADED = "uploaded", "Uploaded"
        VERIFYING = "verifying", "Verifying"
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"
        ABORTED = "aborted", "Aborted"
        # Received once, then deleted from storage by retention or on request (a deletion
        # certificate says what went).
        DELETED = "deleted", "Deleted"

    # The states, in groups the rules speak of. Every change between them goes through
    # transition().
    # The customer may still send parts (and so get credentials and report progress).
    ACTIVE = frozenset({Status.CREATED, Status.UPLOADING, Status.STALLED})
    # Only these can fall silent and become stalled (the CLI sends no heartbeats).
    HEARTBEATING = frozenset({Status.CREATED, Status.UPLOADING})
    IN_PROGRESS = ACTIVE | {Status.COMPLETING}
    # Stored, and the recorded version is the file.
    RECEIVED = frozenset({Status.UPLOADED, Status.VERIFYING, Status.VERIFIED})
    AWAITING_VERIFICATION = frozenset({Status.UPLOADED, Status.VERIFYING})
    # Not settled yet: a staff receipt waits for these.
    UNSETTLED = IN_PROGRESS | AWAITING_VERIFICATION
    # Finished one way or another: the key takes nothing more from the customer.
    FINISHED = RECEIVED | {Status.FAILED, Status.ABORTED, Status.DELETED}
    # Bytes that count against the quota: in flight or kept.
    COUNTS_AGAINST_QUOTA = IN_PROGRESS | RECEIVED

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(UploadProject, on_delete=models.PROTECT, related_name="uploads")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="uploads",
    )
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    original_name = models.CharField(max_length=255)
    relative_path = models.CharField(max_length=1024, blank=True)
    object_key = models.CharField(max_length=1024, unique=True)
    size = models.BigIntegerField()
    content_type = models.CharField(max_length=255, blank=True)
    client_last_modified = models.DateTimeField(null=True, blank=True)
    part_size = models.BigIntegerField()
    part_count = models.PositiveIntegerField()
    multipart_upload_id = models.CharField(max_length=1024, blank=True)
    checksum_crc64nvme = models.CharField(max_length=64, blank=True)
    checksum_sha256 = models.CharField(max_length=64, blank=True)
    declared_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 the customer declared, e.g. from sha256sum."
    )

    class Source(models.TextChoices):
        BROWSER = "browser", "Browser"
        CLI = "cli", "AWS CLI"

    # Browser uploads use the multipart upload the portal created; CLI uploads let the AWS
    # CLI run its own and the portal checks the object when the customer says it is done.
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.BROWSER)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED, db_index=True)
    status_reason = models.TextField(blank=True)
    bytes_confirmed = models.BigIntegerField(default=0)
    version_id = models.CharField(max_length=1024, blank=True)
    etag = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_progress_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When the last credentials vended for this upload expire: until then the holder can
    # still PUT to the key, so the final foreign-version check waits for it.
    credentials_expire_at = models.DateTimeField(null=True, blank=True)
    # When the one check for foreign writes (after the credentials expired) ran.
    foreign_checked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    # The integrity sweep's last look at the recorded version, and since when storage no
    # longer has it (deleted behind the portal's back, or a local S3 that lost its data).
    integrity_checked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    missing_since = models.DateTimeField("missing from storage since", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return self.display_path

    @property
    def display_path(self) -> str:
        return self.relative_path or self.original_name

    def transition(
        self,
        to: str,
        *,
        allowed: Iterable[str],
        action: str = "",
        actor=None,
        audit_data: dict[str, Any] | None = None,
        refuse_otherwise: bool = False,
        **fields: Any,
    ) -> str | None:
        """Move this upload to `to` if it is in one of the `allowed` states, as one conditional
        update on the locked row, so two concurrent callers cannot both win. Sets `fields` too,
        records `action` in the audit log when it moved, and returns the state it left. When it
        did not move: None, or with `refuse_otherwise` the refusal that says why."""
        allowed = frozenset(allowed)
        with transaction.atomic():
            current, reason = (
                Upload.objects.select_for_update()
                .filter(pk=self.pk)
                .values_list("status", "status_reason")
                .first()
            ) or (None, "")
            if current in allowed:
                # updated_at says since when it is `to` (update() does not touch auto_now fields).
                fields.setdefault("updated_at", timezone.now())
                Upload.objects.filter(pk=self.pk).update(status=to, **fields)
                self.status = to
                for name, value in fields.items():
                    setattr(self, name, value)
                if action:
                    audit.record(action, actor=actor, target=self, **(audit_data or {}))
                return current
        if current is not None:
            self.status, self.status_reason = current, reason
        if refuse_otherwise:
            self._refuse_from(current, actor)
        return None

    def _refuse_from(self, current: str | None, actor) -> NoReturn:
        if current == Upload.Status.ABORTED:
            refuse("upload_aborted", "This upload was cancelled; start a new one.", user=actor, target=self)
        if current == Upload.Status.COMPLETING:
            refuse("already_completing", "This upload is already being completed.", user=actor, target=self)
        if current == Upload.Status.FAILED:
            # Say why: a complete retried after a lost reply only learns the outcome here.
            message = f"This upload failed. {self.status_reason} Start a new one.".replace("  ", " ")
            refuse("upload_failed", message, user=actor, target=self)
        refuse(
            "already_completed",
            "This upload is already complete.",
            user=actor,
            target=self,
            upload_status=current,
        )

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def customer_status(self) -> str:
        """The state in a customer's words, as the project page and its live updates say it."""
        if self.missing_since and self.status in self.RECEIVED:
            return "Missing from storage"
        return CUSTOMER_STATUS_WORDS.get(self.status, self.get_status_display())

    @property
    def badge(self) -> str:
        """The CSS status key of the state the customer sees (`status-<badge>`)."""
        return "missing" if self.missing_since and self.status in self.RECEIVED else self.status

    @property
    def percent_done(self) -> int:
        if not self.size:
            return 0
        return min(100, int(self.bytes_confirmed * 100 / self.size))


CUSTOMER_STATUS_WORDS = {
    Upload.Status.CREATED: "Waiting for the first part",
    Upload.Status.UPLOADING: "Uploading",
    Upload.Status.STALLED: "Stopped",
    Upload.Status.COMPLETING: "Finishing",
    Upload.Status.UPLOADED: "Uploaded, verifying soon",
    Upload.Status.VERIFYING: "Verifying",
    Upload.Status.VERIFIED: "Verified",
    Upload.Status.FAILED: "Failed",
    Upload.Status.ABORTED: "Cancelled",
    Upload.Status.DELETED: "Deleted",
}


class UploadPart(models.Model):
    """What the browser reported about one part (through /progress), so a resumed upload
    can compare re-hashed parts with what was sent before. S3's ListParts is the truth
    about which parts exist; this is the client's claim about their content."""

    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="parts")
    number = models.PositiveIntegerField()
    size = models.BigIntegerField(null=True, blank=True)
    checksum_crc64nvme = models.CharField(max_length=24, blank=True)
    etag = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["upload", "number"]
        constraints = [models.UniqueConstraint(fields=["upload", "number"], name="one_row_per_part")]

    def __str__(self) -> str:
        return f"part {self.number} of {self.upload_id}"


class UploadInProgress(Upload):
    """Admin-only view of unfinished uploads across a consultant's organisations."""

    class Meta:
        proxy = True
        verbose_name = "upload in progress"
        verbose_name_plural = "uploads in progress"
