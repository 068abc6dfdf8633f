"""Reads: what a project holds and uses, its uploads, their parts, what happened.

The customer's project page is drawn from these once on load and again, section by section,
while it stays open (`views.project_live`), so the two can never disagree; the API reads
through them too."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet, Sum

from audit import activity
from uploads import s3
from uploads.models import Upload, UploadProject
from uploads.refusals import UploadRefused, storage_unavailable
from uploads.tenancy import Tenancy

logger = logging.getLogger(__name__)

ACTIVITY_PAGE_SIZE = 20
# How many in-progress uploads one page load asks storage about; the rest show the last
# progress report.
STORED_LOOKUPS_PER_PAGE = 20
STORED_CACHE_SECONDS = 30


def quota_used(project: UploadProject) -> int:
    """Bytes counted against the project's quota: uploads received or still in flight."""
    used = project.uploads.filter(status__in=Upload.COUNTS_AGAINST_QUOTA).aggregate(total=Sum("size"))
    return used["total"] or 0


def in_progress_uploads(project: UploadProject) -> QuerySet[Upload]:
    return project.uploads.filter(status__in=Upload.IN_PROGRESS).select_related("uploaded_by")


def completed_uploads(project: UploadProject) -> QuerySet[Upload]:
    return project.uploads.exclude(status__in=Upload.IN_PROGRESS).select_related("uploaded_by")


def list_uploads(
    user, project: UploadProject, state: str = "all", size: int | None = None
) -> QuerySet[Upload]:
    """The project's uploads, newest first; `size` narrows them to one file size, as the
    browser does to find an unfinished upload of a file, or one already received."""
    Tenancy(user).project(project.pk)
    qs = project.uploads.select_related("uploaded_by").order_by("-created_at")
    if state == "in_progress":
        qs = qs.filter(status__in=Upload.IN_PROGRESS)
    if size is not None:
        qs = qs.filter(size=size)
    return qs


@dataclass(frozen=True)
class ListedPart:
    """A part storage holds, with the CRC64NVME the browser reported for it (None if none)."""

    part: s3.Part
    recorded_checksum_crc64nvme: str | None


def list_parts(user, upload: Upload) -> list[ListedPart]:
    """The parts S3 holds (every ListParts page) with what the browser reported for each."""
    Tenancy(user).upload(upload.pk)
    if not upload.multipart_upload_id or upload.status not in Upload.IN_PROGRESS:
        return []
    try:
        parts = s3.list_parts(upload.object_key, upload.multipart_upload_id)
    except s3.StorageError as exc:
        if exc.code == "NoSuchUpload":
            raise UploadRefused(
                "upload_missing", "Storage no longer has this upload; start it again."
            ) from None
        raise storage_unavailable("File storage is not answering; please try again.") from None
    recorded = dict(upload.parts.values_list("number", "checksum_crc64nvme"))
    return [ListedPart(p, recorded.get(p.number) or None) for p in parts]


@dataclass(frozen=True)
class InProgressRow:
    upload: Upload
    stored: int
    # True when `stored` is what storage holds; False when it is the last progress report.
    from_storage: bool

    @property
    def percent(self) -> int:
        return min(100, self.stored * 100 // self.upload.size) if self.upload.size else 0


def stored_bytes(upload: Upload) -> tuple[int, bool]:
    """Bytes storage holds for an unfinished browser upload (the parts S3 has), cached
    briefly; the browser's last progress report when storage cannot say."""
    if upload.source != Upload.Source.BROWSER or not upload.multipart_upload_id:
        return upload.bytes_confirmed, False
    key = f"uploads:stored:{upload.pk}"
    cached = cache.get(key)
    if cached is None:
        try:
            cached = sum(p.size for p in s3.list_parts(upload.object_key, upload.multipart_upload_id))
        except s3.StorageError as exc:
            logger.info("ListParts for %s failed: %s", upload.pk, exc.code)
            return upload.bytes_confirmed, False
        cache.set(key, cached, STORED_CACHE_SECONDS)
    return max(cached, upload.bytes_confirmed), True


def in_progress_rows(project: UploadProject) -> list[InProgressRow]:
    rows = []
    for i, upload in enumerate(in_progress_uploads(project).order_by("-created_at")):
        if i < STORED_LOOKUPS_PER_PAGE:
            stored, exact = stored_bytes(upload)
        else:
            stored, exact = upload.bytes_confirmed, False
        rows.append(InProgressRow(upload, stored, exact))
    return rows


def received_uploads(project: UploadProject) -> QuerySet[Upload]:
    return completed_uploads(project).select_related("verification").order_by("-created_at")


def largest_file(project: UploadProject) -> int:
    """The largest file the project can take: its per-file limit, or its whole quota if that
    is smaller."""
    return min(project.max_file_size, project.quota_bytes)


@dataclass(frozen=True)
class ActivityPage:
    items: list[activity.Activity]
    number: int
    has_next: bool


def activity_page(project: UploadProject, number: int = 1) -> ActivityPage:
    number = max(1, number)
    items = activity.for_project(project, ACTIVITY_PAGE_SIZE + 1, offset=(number - 1) * ACTIVITY_PAGE_SIZE)
    return ActivityPage(items[:ACTIVITY_PAGE_SIZE], number, len(items) > ACTIVITY_PAGE_SIZE)


def unsettled(project: UploadProject) -> bool:
    """Whether anything on the page is still expected to change soon."""
    return project.uploads.filter(status__in=Upload.UNSETTLED).exists()


def live_poll_seconds() -> int:
    return settings.PROJECT_PAGE_POLL_SECONDS
