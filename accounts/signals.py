"""Sign-in, sign-out and MFA changes are written to the audit log."""

from allauth.mfa import signals as mfa_signals
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


@receiver(mfa_signals.authenticator_added)
def record_mfa_added(sender, request, user, authenticator, **kwargs) -> None:
    audit.record("mfa.enabled", actor=user, target=user, type=authenticator.type)


@receiver(mfa_signals.authenticator_removed)
def record_mfa_removed(sender, request, user, authenticator, **kwargs) -> None:
    audit.record("mfa.disabled", actor=user, target=user, type=authenticator.type)


@receiver(mfa_signals.authenticator_reset)
def record_mfa_reset(sender, request, user, authenticator, **kwargs) -> None:
    audit.record("mfa.reset", actor=user, target=user, type=authenticator.type)


@receiver(mfa_signals.authentication_failed)
def record_mfa_failure(sender, request, user, authenticator, **kwargs) -> None:
    audit.record(
        "auth.login.failed",
        actor=user,
        target=user,
        reason="mfa_code_invalid",
        reauthentication=bool(kwargs.get("reauthentication")),
    )
