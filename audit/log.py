"""The one function that writes the audit log."""

import logging
from typing import Any

from django.db import models

from audit import chain
from audit.catalogue import ACTIONS
from audit.context import current_request
from audit.models import AuditEvent
from audit.scrub import clean_data, safe_text

logger = logging.getLogger("audit")


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
    """Append one event to the hash chain. `actor` is a user or None for the system;
    `target` is the model instance acted on. Organisation and project are taken from the
    target when it has them. `data` must be JSON-serialisable; keys outside the
    catalogue's allowlist are dropped and secret-looking values redacted.

    Safe inside a caller's transaction: the chain head stays locked until that
    transaction ends, so call record() last in it."""
    if action not in ACTIONS:
        logger.warning("audit action %r is not in audit.catalogue.ACTIONS", action)
    # A target says where it belongs with audit_scope() -> (organization, project); other
    # targets are read through their `project` and `organization` attributes.
    scope = target.audit_scope() if hasattr(target, "audit_scope") else (None, None)
    if project is None and target is not None:
        project = scope[1] if scope[1] is not None else getattr(target, "project", None)
    if organization is None:
        if project is not None:
            organization = project.organization
        elif scope[0] is not None:
            organization = scope[0]
        elif target is not None:
            organization = getattr(target, "organization", None)
    ctx = current_request.get()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return chain.append(
        {
            "action": action,
            "actor_id": actor.pk if is_user else None,
            "actor_label": safe_text(actor_label or (actor.get_username() if is_user else ""))[:255],
            "ip": ctx.ip if ctx else None,
            "user_agent": safe_text(ctx.user_agent) if ctx else "",
            "organization_id": organization.pk if organization is not None else None,
            "project_id": project.pk if project is not None else None,
            "target_type": target._meta.label if target is not None else "",
            "target_id": str(target.pk) if target is not None else "",
            "target_label": safe_text(str(target))[:255] if target is not None else "",
            "data": clean_data(action, data),
        }
    )
