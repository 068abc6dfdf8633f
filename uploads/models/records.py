"""What the portal keeps beside uploads: revoked credentials, verification results, task leases."""

from django.db import models

from uploads.models.upload import Upload


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
