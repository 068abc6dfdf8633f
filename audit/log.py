"""The one function that writes the audit log."""

from typing import Any

from django.db import models

from audit.context import current_request
from audit.models import AuditEvent


def record(
    action: str,
    actor: Any = None,
    organization: Any = None,
    target: models.Model | None = None,
    *,
    project: Any = None,
    actor_label: str = "",
    **data: Any,
) -> AuditEvent:
    """Append one event. `actor` is a user or None for the system; `target` is the model
    instance acted on. Organisation and project are taken from the target when it has
    them. `data` must be JSON-serialisable and must never hold secrets."""
    if project is None and target is not None:
        if target._meta.label == "uploads.UploadProject":
            project = target
        else:
            project = getattr(target, "project", None)
    if organization is None:
        if project is not None:
            organization = project.organization
        elif target is not None and target._meta.label == "accounts.Organization":
            organization = target
        elif target is not None:
            organization = getattr(target, "organization", None)
    ctx = current_request.get()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        action=action,
        actor=actor if is_user else None,
        actor_label=actor_label or (actor.get_username() if is_user else ""),
        ip=ctx.ip if ctx else None,
        user_agent=ctx.user_agent if ctx else "",
        organization=organization,
        project=project,
        target_type=target._meta.label if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:255] if target is not None else "",
        data=data,
    )
