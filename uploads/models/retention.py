"""Deletion certificates: what the portal deleted from storage, when and under which rule,
with the digest that the audit chain holds."""

from __future__ import annotations

import hashlib
import json
import uuid

from django.conf import settings
from django.db import models

from uploads.models.project import UploadProject


class DeletionCertificate(models.Model):
    """One deletion of a project's data (its whole prefix, or one file on request). Written
    before anything is deleted and filled in as it goes, so a rerun after a crash finishes
    the same certificate instead of starting a second."""

    class Scope(models.TextChoices):
        PROJECT = "project", "Every file of the project"
        FILE = "file", "One file"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(UploadProject, on_delete=models.PROTECT, related_name="deletion_certificates")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    # The prefix (whole project) or the one key deleted.
    target = models.CharField(max_length=1100)
    rule = models.CharField(max_length=300, help_text="Why: the retention rule, or staff's reason.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Every version and delete marker removed: key, version_id, size, etag, delete_marker,
    # and what the portal's verification found for it (CRC64NVME; SHA-256 where it read the
    # bytes), empty for versions it never verified.
    versions = models.JSONField(default=list)
    aborted_multipart_uploads = models.JSONField(default=list)
    digest = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the certificate's JSON.")

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # At most one unfinished deletion per target: a rerun resumes it.
            models.UniqueConstraint(
                fields=["project", "target"],
                condition=models.Q(completed_at__isnull=True),
                name="one_open_deletion",
            )
        ]

    def __str__(self) -> str:
        return f"deletion of {self.target} ({'done' if self.completed_at else 'in progress'})"

    def document(self) -> dict:
        """The certificate as the customer downloads it (and as its digest covers)."""
        return {
            "certificate": str(self.id),
            "organisation": self.project.organization.name,
            "project": self.project.name,
            "scope": self.scope,
            "target": self.target,
            "bucket": settings.UPLOAD_BUCKET,
            "rule": self.rule,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "completed_at": self.completed_at.isoformat() if self.completed_at else None,
            "versions": self.versions,
            "aborted_multipart_uploads": self.aborted_multipart_uploads,
            "verified_empty": self.completed_at is not None,
        }

    def compute_digest(self) -> str:
        body = json.dumps(self.document(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(body).hexdigest()
