"""What customers see of the audit log: their project's upload activity, nothing else.

Only actions the catalogue marks customer_visible, only for the one project (the caller
has already checked, through Tenancy, that the user may see it), and only who, what and
when: no IP addresses, user agents, hashes or other data."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model

from audit.catalogue import CUSTOMER_VISIBLE_ACTIONS
from audit.models import AuditEvent

VERBS = {
    "upload.created": "started uploading",
    "upload.completed": "finished uploading",
    "upload.aborted": "cancelled",
    "upload.failed": "could not complete:",
    "upload.verified": "verified",
    "upload.verification_failed": "failed verification:",
    "upload.received_unverified": "received, not verified:",
    "upload.received_cli": "received through the AWS CLI:",
    "upload.stalled": "marked stalled:",
    "upload.complete_interrupted": "had an interrupted finish checked by the portal:",
    "upload.aborted_abandoned": "aborted, not finished in time:",
}
PORTAL = "Upload Portal"


@dataclass(frozen=True)
class Activity:
    when: datetime
    who: str
    verb: str
    what: str
    size: int | None
    action: str


def _file_name(event: AuditEvent) -> str:
    # The path the customer chose, when the event says; else the upload's own label.
    data = event.data if isinstance(event.data, dict) else {}
    name = data.get("relative_path") or data.get("name")
    return str(name) if name else event.target_label


def for_project(project, limit: int = 50, offset: int = 0) -> list[Activity]:
    events = list(
        AuditEvent.objects.filter(project_id=project.pk, action__in=CUSTOMER_VISIBLE_ACTIONS)
        .order_by("-id")
        .only("created_at", "action", "actor_id", "actor_label", "target_label", "data")[
            offset : offset + limit
        ]
    )
    # Consultants and background tasks appear as the portal, not by name.
    actor_ids = {e.actor_id for e in events if e.actor_id}
    staff = set(
        get_user_model().objects.filter(pk__in=actor_ids).filter(is_staff=True).values_list("pk", flat=True)
    )
    return [
        Activity(
            when=e.created_at,
            who=e.actor_label if e.actor_id and e.actor_id not in staff else PORTAL,
            verb=VERBS.get(e.action, e.action),
            what=_file_name(e),
            size=e.data.get("size") if isinstance(e.data.get("size"), int) else None,
            action=e.action,
        )
        for e in events
    ]
