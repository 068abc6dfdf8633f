import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.models import Organization
from accounts.validators import validate_key_slug


class UploadProject(models.Model):
    """A place a customer organisation uploads to: one key prefix in the bucket."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="projects")
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
    instructions = models.TextField(blank=True, help_text="Shown to customers on the project page.")
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

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="project_slug_per_org")]

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
        now = now or timezone.now()
        return self.status == self.Status.OPEN and (self.open_until is None or now < self.open_until)


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

    IN_PROGRESS = (Status.CREATED, Status.UPLOADING, Status.STALLED, Status.COMPLETING)
    RECEIVED = (Status.UPLOADED, Status.VERIFYING, Status.VERIFIED)
    # Bytes that count against the quota: in flight or kept.
    COUNTS_AGAINST_QUOTA = IN_PROGRESS + RECEIVED

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

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["project", "status"])]

    def __str__(self) -> str:
        return self.display_path

    @property
    def display_path(self) -> str:
        return self.relative_path or self.original_name

    @property
    def is_in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def percent_done(self) -> int:
        if not self.size:
            return 0
        return min(100, int(self.bytes_confirmed * 100 / self.size))


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
