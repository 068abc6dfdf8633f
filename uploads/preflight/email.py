"""Email: invitations, receipts and staff notifications go out through EMAIL_URL."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from uploads.preflight import Check, Finding, not_checked, passed

SMTP = "django.core.mail.backends.smtp.EmailBackend"


class EmailDelivery(Check):
    name = "email"
    fix_on_error = (
        "Set EMAIL_URL to SES's SMTP endpoint with SMTP credentials (smtp+tls://USER:PASSWORD@"
        "email-smtp.REGION.amazonaws.com:587) and verify DEFAULT_FROM_EMAIL's domain in SES."
    )

    def check(self) -> Finding:
        to = self.options.get("email_to")
        if settings.EMAIL_BACKEND != SMTP:
            return not_checked(
                f"EMAIL_URL uses {settings.EMAIL_BACKEND.rsplit('.', 2)[-2]}, which delivers no mail; "
                "in AWS set it to SES's SMTP endpoint"
            )
        with get_connection(fail_silently=False, timeout=10) as connection:
            if to:
                EmailMessage(
                    "Upload Portal preflight",
                    "This message proves the portal can send email.",
                    to=[to],
                    connection=connection,
                ).send()
                return passed(f"sent a test message to {to} through {settings.EMAIL_HOST}")
        return passed(
            f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT} accepted the portal's SMTP sign-in "
            "(pass --email-to to send a message)"
        )
