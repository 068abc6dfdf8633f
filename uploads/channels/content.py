"""What a notification says and to whom: the file rows and staff recipients every channel uses."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from portal.format import human_size
from uploads import checksums
from uploads.models import NotificationItem, UploadProject


def staff_recipients(project: UploadProject) -> list[str]:
    users = get_user_model().objects.filter(
        Q(notified_projects=project) | Q(team_organizations=project.organization_id),
        is_active=True,
        is_staff=True,
    )
    return sorted({u.email for u in users if u.email})


def file_rows(items: list[NotificationItem]) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        u = item.upload
        verification = getattr(u, "verification", None)
        claims = checksums.claims(u)
        rows.append(
            {
                "upload": u,
                "event": item.event,
                "data": item.data,
                "path": u.display_path,
                "size": u.size,
                "size_h": human_size(u.size),
                "status": verification.get_outcome_display() if verification else u.get_status_display(),
                "ok": verification is not None and verification.outcome == "verified",
                "reason": (verification.reason if verification else "") or u.status_reason,
                "checksums": claims,
                "crc64nvme": next((c.value for c in claims if c.algorithm == "CRC64NVME"), ""),
                "sha256": next((c.value for c in claims if c.algorithm == "SHA-256"), ""),
                "completed_at": u.completed_at,
                "verified_at": verification.checked_at if verification else u.verified_at,
                "admin_url": settings.PORTAL_BASE_URL.rstrip("/")
                + reverse("admin:uploads_upload_change", args=[u.pk]),
            }
        )
    return rows
