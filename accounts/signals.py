"""Sign-in and sign-out are written to the audit log."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

import audit


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs) -> None:
    audit.record("auth.login.succeeded", actor=user, target=user)


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record("auth.logout", actor=user, target=user)


@receiver(user_login_failed)
def record_login_failure(sender, credentials, request=None, **kwargs) -> None:
    # Only the identifier is kept: credentials also holds the password.
    identifier = credentials.get("email") or credentials.get("username") or ""
    audit.record(
        "auth.login.failed",
        actor_label=str(identifier)[:255],
        identifier=str(identifier)[:255],
        reason="bad_credentials",
    )
