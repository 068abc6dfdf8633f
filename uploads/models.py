import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

import audit
from accounts.models import Organization
from accounts.validators import validate_key_slug
from uploads.refusals import refuse
from uploads.webhooks import validate_webhook_url


class UploadProject(models.Model):
    """A place a customer organisation uploads to: one key prefix in the bucket."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="projects", verbose_name="organisation"
    )
    name = models.CharField(max_length=200)
    slug = models.CharField(
        max_length=50,
        validators=[validate_key_slug],
        help_text="Second segment of every storage key. Cannot change once uploads exist.",
    )
    key_prefix = models.CharField(max_length=120, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    open_until = models.DateTimeField(
        null=True, blank=True, help_text="Deadline; no new uploads start after it."
    )
    quota_bytes = models.BigIntegerField(
        default=1024**4, help_text="Total bytes this project may receive (1 TiB by default)."
    )
    max_file_size = models.BigIntegerField(
        default=5 * 1024**4, help_text="Largest single file, in bytes (S3's limit is 5 TiB)."
    )
    allowed_extensions = models.CharField(
        max_length=500,
        blank=True,
        help_text="Comma-separated, e.g. 'dmp, gz, zip'. Empty allows any file type.",
    )
    instructions = models.TextField(
        blank=True, help_text="Shown to customers on the project page as plain text; line breaks are kept."
    )
    notify_staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="notified_projects",
        limit_choices_to={"is_staff": True},
        help_text="Consultants emailed when files arrive, besides the account team.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_projects",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Background work: verification depth, deadlines and the project's webhook.
    deep_verify = models.BooleanField(
        default=False,
        help_text="Also read every byte back from storage and compare its SHA-256 with the "
        "customer's. Slower; the default metadata check already compares the full-file CRC64NVME.",
    )
    deep_verify_declared = models.BooleanField(
        default=False,
        help_text="Read back every file whose SHA-256 the customer declared, and compare it with "
        "that declared value (even when deep verification is off for other files).",
    )
    grace_period_hours = models.PositiveIntegerField(
        default=24,
        help_text="Uploads started before the deadline may still finish for this many hours after it.",
    )
    abandon_after_hours = models.PositiveIntegerField(
        default=7 * 24,
        help_text="Unfinished uploads older than this are aborted and their parts deleted.",
    )
    webhook_url = models.URLField(
        blank=True,
        validators=[validate_webhook_url],
        help_text="Optional https URL (e.g. a Slack-compatible incoming webhook) told about "
        "verified and failed files. Must resolve to a public address; redirects are not followed.",
    )
    webhook_secret = models.CharField(
        max_length=64,
        blank=True,
        help_text="Key for the X-Portal-Signature HMAC-SHA256 header. Generated when empty.",
    )

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="project_slug_per_org")]

    def audit_scope(self):
        """Where an audit event about this project belongs (audit.record)."""
        return self.organization, self

    def __str__(self) -> str:
        return f"{self.organization.name} / {self.name}"

    def derived_prefix(self) -> str:
        return f"{self.organization.slug}/{self.slug}/"

    def clean(self) -> None:
        super().clean()
        if self._prefix_change_refused():
            raise ValidationError(
                {
                    "slug": f"Files are already stored under '{self.key_prefix}', so the slug "
                    "can no longer change."
                }
            )

    def save(self, *args, **kwargs) -> None:
        if self._prefix_change_refused():
            raise ValidationError("A project's slug cannot change once uploads exist.")
        self.key_prefix = self.derived_prefix()
        super().save(*args, **kwargs)

    def _prefix_change_refused(self) -> bool:
        if self.pk is None or not self.organization_id or not self.slug:
            return False
        return bool(self.key_prefix) and self.key_prefix != self.derived_prefix() and (self.uploads.exists())

    @property
    def extension_list(self) -> list[str]:
        return [e.strip().lower().lstrip(".") for e in self.allowed_extensions.split(",") if e.strip()]

    def is_accepting_uploads(self, now=None) -> bool:
        """Whether a new upload may start."""
        now = now or timezone.now()
        return self.status == self.Status.OPEN and (self.open_until is None or now < self.open_until)

    def lets_started_uploads_continue(self, now=None) -> bool:
        """Whether an upload already started may go on (credentials, progress, complete): until
        the deadline plus the grace period, and never once the project is closed."""
        now = now or timezone.now()
        if self.status != self.Status.OPEN:
            return False
        return self.open_until is None or now < self.open_until + timedelta(hours=self.grace_period_hours)


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
    FINISHED = RECEIVED | {Status.FAILED, Status.ABORTED}
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


class CredentialRevocation(models.Model):
    """A deny written into the bucket policy to cut off live vended credentials before they
    expire: every request of one source identity (a removed member), or PutObject under
    one project prefix (a closed project). Dropped from the policy once every credential it
    could concern has expired."""

    class Kind(models.TextChoices):
        IDENTITY = "identity", "Source identity"
        PREFIX = "prefix", "Key prefix"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=255)
    reason = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} until {self.expires_at:%Y-%m-%d %H:%M}"


# ---------------------------------------------------------------------------------------
# Background work: verification results, task leases, the notification outbox.
# The database decides what happened; a queued Celery message is only a trigger.
# ---------------------------------------------------------------------------------------


class VerificationResult(models.Model):
    """The one verification of an upload. Its uniqueness is what makes a re-delivered task
    harmless: a second run finds the row and stops."""

    class Outcome(models.TextChoices):
        VERIFIED = "verified", "Verified"
        FAILED = "failed", "Failed"
        UNVERIFIED = "unverified", "Received, not verified"

    class Method(models.TextChoices):
        METADATA = "metadata", "Size and CRC64NVME from object metadata"
        DEEP = "deep", "Every byte read back and SHA-256 compared"
        NONE = "none", "Nothing to compare with"

    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="verification")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    method = models.CharField(max_length=10, choices=Method.choices)
    reason = models.TextField(blank=True)
    object_size = models.BigIntegerField(null=True, blank=True)
    object_crc64nvme = models.CharField(max_length=64, blank=True)
    object_sha256 = models.CharField(max_length=64, blank=True)
    version_id = models.CharField(max_length=1024, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    checked_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.upload}: {self.get_outcome_display()}"


class TaskLease(models.Model):
    """A database lease on one unit of work (e.g. "verify:<upload id>"). Only the holder
    works on it; a worker killed mid-task simply lets its lease expire and the sweep hands
    the work to another worker."""

    key = models.CharField(max_length=200, unique=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField()
    runs = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.key


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


class UploadInProgress(Upload):
    """Admin-only view of unfinished uploads across a consultant's organisations."""

    class Meta:
        proxy = True
        verbose_name = "upload in progress"
        verbose_name_plural = "uploads in progress"
