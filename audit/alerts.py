"""Telling staff that the audit chain is broken."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from audit.verify import Result


def alert_recipients() -> list[str]:
    configured = list(getattr(settings, "AUDIT_ALERT_EMAILS", []))
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return sorted(set(configured) | set(superusers.values_list("email", flat=True)))


def alert_broken_chain(result: Result) -> int:
    """Email staff; the number of recipients."""
    recipients = alert_recipients()
    if recipients:
        send_mail(
            "[Upload Portal] Audit log verification FAILED",
            "verify_audit found the audit log's hash chain broken:\n\n"
            f"{result}\n\n"
            "Someone may have edited or removed audit events. Compare the database with the S3 "
            "archive (docs/audit.md, 'When verification fails') before anything else changes.",
            None,
            recipients,
        )
    return len(recipients)
