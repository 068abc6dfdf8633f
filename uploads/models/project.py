"""Upload projects: the places customers upload to, one key prefix each."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.models import Organization
from accounts.validators import validate_key_slug
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
    sha256_in_browser = models.BooleanField(
        "SHA-256 in the customer's browser",
        default=False,
        help_text="The customer's browser also computes the whole file's SHA-256 as it reads it, "
        "which keeps one of their CPU cores busy for the upload (about 3 s per GiB). Off: the "
        "portal computes it from the stored file when it verifies it. Either way storage checks "
        "every part's and the whole file's CRC64NVME.",
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
    # When every expected file was first verified: set by one conditional update, so staff
    # are told once however many workers finish the last files together.
    delivery_completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Retention: the files are deleted (and the deletion certified, uploads/retention.py)
    # `retention_days` after the project closes, or on `delete_on`; never while on legal hold.
    retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Delete every file this many days after the project is closed. Empty: keep them.",
    )
    delete_on = models.DateField(
        null=True,
        blank=True,
        help_text="Or delete every file on this date (whether or not the project is closed).",
    )
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    legal_hold = models.BooleanField(
        default=False, help_text="Nothing in the project is deleted while set. Only superusers can change it."
    )
    data_deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

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
        # The retention period runs from the closing; reopening stops it.
        if self.status == self.Status.CLOSED and self.closed_at is None:
            self.closed_at = timezone.now()
        elif self.status == self.Status.OPEN:
            self.closed_at = None
        if kwargs.get("update_fields") is not None and "status" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "closed_at"}
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
