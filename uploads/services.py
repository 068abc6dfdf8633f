"""Business rules for upload projects and uploads. Views, admin actions and tasks call
these, so each rule has one home."""

from django.db.models import Sum

from uploads.models import Upload, UploadProject


def quota_used(project: UploadProject) -> int:
    """Bytes counted against the project's quota: uploads received or still in flight."""
    total = project.uploads.filter(status__in=Upload.COUNTS_AGAINST_QUOTA).aggregate(total=Sum("size"))[
        "total"
    ]
    return total or 0


def in_progress_uploads(project: UploadProject):
    return project.uploads.filter(status__in=Upload.IN_PROGRESS).select_related("uploaded_by")


def completed_uploads(project: UploadProject):
    return project.uploads.exclude(status__in=Upload.IN_PROGRESS).select_related("uploaded_by")
