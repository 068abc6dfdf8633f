"""The browser's heartbeat: bytes sent and each part's CRC64NVME, stored at most once per
interval. Not audited: it is frequent and changes no permission."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from uploads.lifecycle import rules
from uploads.models import Upload, UploadPart
from uploads.refusals import UploadRefused


def record_progress(user, upload: Upload, bytes_done: int, parts: list[dict[str, Any]]) -> tuple[bool, int]:
    """Store the browser's progress and per-part checksums, at most once per interval.
    Returns (accepted, seconds until the next call is acted on)."""
    rules.require_own_upload_in_open_project(user, upload, "continue")
    if upload.status not in Upload.ACTIVE:
        raise UploadRefused("upload_not_active", "This upload takes no more data.")
    if not isinstance(bytes_done, int) or not 0 <= bytes_done <= upload.size:
        raise UploadRefused("invalid_progress", "bytes_done must be between 0 and the file size.", 400)
    checksums = _part_checksums(upload, parts)
    interval = settings.UPLOAD_PROGRESS_INTERVAL_SECONDS
    now = timezone.now()
    due = Q(last_progress_at__isnull=True) | Q(last_progress_at__lte=now - timedelta(seconds=interval))
    with transaction.atomic():
        # A heartbeat is not a change of state (an uploading upload stays uploading); only a
        # stalled one wakes up, so this conditional update is the throttle, not a transition.
        acted = Upload.objects.filter(due, pk=upload.pk, status__in=Upload.ACTIVE).update(
            last_progress_at=now, bytes_confirmed=bytes_done, status=Upload.Status.UPLOADING
        )
        if not acted:
            last = Upload.objects.filter(pk=upload.pk).values_list("last_progress_at", flat=True).first()
            wait = interval - (now - last).total_seconds() if last else interval
            return False, max(1, math.ceil(wait))
        sizes = rules.expected_part_sizes(upload)
        UploadPart.objects.bulk_create(
            [
                UploadPart(upload=upload, number=n, size=sizes[n - 1], checksum_crc64nvme=c)
                for n, c in checksums.items()
            ],
            update_conflicts=True,
            unique_fields=["upload", "number"],
            update_fields=["checksum_crc64nvme", "size", "updated_at"],
        )
    return True, interval


def _part_checksums(upload: Upload, parts: list[dict[str, Any]]) -> dict[int, str]:
    clean: dict[int, str] = {}
    for p in parts:
        number, checksum = p.get("number"), p.get("checksum_crc64nvme")
        if not isinstance(number, int) or not 1 <= number <= upload.part_count:
            raise UploadRefused("invalid_progress", f"Part {number} is not part of this upload's plan.", 400)
        if not rules.valid_crc64nvme(checksum):
            raise UploadRefused(
                "invalid_checksum", f"Part {number}'s CRC64NVME is not 8 base64-encoded bytes.", 400
            )
        clean[number] = checksum
    return clean
