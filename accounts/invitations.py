"""Invitations: the only way a customer gets an account. One home for their rules."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

import audit
from accounts import directories
from accounts.models import Invitation, Membership, Organization


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(invitation: Invitation) -> str:
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _hash(token)
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
    return token


def invitation_url(request: HttpRequest | None, token: str) -> str:
    path = reverse("invitation_accept", args=[token])
    if request is not None:
        return request.build_absolute_uri(path)
    return settings.PORTAL_ORIGINS[0].rstrip("/") + path


def validate_invitee(organization: Organization, email: str) -> str:
    """The normalised address, or ValidationError if it cannot be invited here."""
    email = email.strip().lower()
    user = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
    if user is not None and (user.is_staff or user.is_superuser):
        raise ValidationError("This address belongs to a consultant account, which cannot be invited.")
    if user is not None and Membership.objects.filter(user=user, organization=organization).exists():
        raise ValidationError(f"{email} is already a member of {organization}.")
    if Invitation.objects.filter(
        organization=organization, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists():
        raise ValidationError(f"{email} already has an open invitation to {organization}: resend it instead.")
    return email


@transaction.atomic
def create_invitation(
    organization: Organization, email: str, role: str, invited_by: User, request: HttpRequest | None = None
) -> Invitation:
    email = validate_invitee(organization, email)
    invitation = Invitation(organization=organization, email=email, role=role, invited_by=invited_by)
    token = _new_token(invitation)
    invitation.save()
    _deliver(invitation, token, request, actor=invited_by)
    _record("invitation.created", invitation, actor=invited_by, role=role)
    return invitation


@transaction.atomic
def resend_invitation(invitation: Invitation, actor: User, request: HttpRequest | None = None) -> None:
    """A fresh link and expiry; the old link stops working. Also how staff retry an
    invitation the customer directory could not take (see `_deliver`)."""
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(f"The invitation for {invitation.email} is {invitation.status}.")
    token = _new_token(invitation)
    invitation.save(update_fields=["token_hash", "expires_at"])
    _deliver(invitation, token, request, actor=actor)
    _record("invitation.resent", invitation, actor=actor)


def _deliver(invitation: Invitation, token: str, request: HttpRequest | None, *, actor: User) -> None:
    """Tell the customer directory (accounts.directories), then email the link once the
    invitation is committed, unless the directory emailed the invitee itself.

    If the directory fails, the invitation is kept but nothing is sent (a link to a sign-in
    the directory cannot honour would only confuse): `invitation.directory_error` says why,
    for staff, and resending tries again."""
    invitation.directory_error = ""
    try:
        emailed = directories.current().user_invited(invitation, actor=actor)
    except directories.DirectoryError as exc:
        invitation.directory_error = str(exc)
        return
    if emailed:
        Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())
    else:
        transaction.on_commit(lambda: _send(invitation, token, request))


def revoke_invitation(invitation: Invitation, actor: User) -> None:
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(f"The invitation for {invitation.email} is {invitation.status}.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    _record("invitation.revoked", invitation, actor=actor)


def _send(invitation: Invitation, token: str, request: HttpRequest | None) -> None:
    context = {
        "invitation": invitation,
        "url": invitation_url(request, token),
        "valid_days": settings.INVITATION_VALID_DAYS,
        "passwords": directories.current().customer_passwords,
    }
    send_mail(
        render_to_string("accounts/email/invitation_subject.txt", context).strip(),
        render_to_string("accounts/email/invitation_message.txt", context),
        None,
        [invitation.email],
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())


def find_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organization").filter(token_hash=_hash(token)).first()


@transaction.atomic
def accept_invitation(invitation: Invitation, user: User, *, method: str) -> Membership:
    """Make `user` a member as invited. The caller has checked the invitation is pending
    and belongs to this user's address."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(f"This invitation is {invitation.status}.")
    if user.email.lower() != invitation.email.lower():
        raise ValidationError("This invitation is for a different email address.")
    membership, _ = Membership.objects.get_or_create(
        user=user, organization=invitation.organization, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    _record("invitation.accepted", invitation, actor=user, role=membership.role, method=method)
    return membership


def create_invited_user(email: str, *, password: str | None = None) -> User:
    """A customer account for an invited address: a usable password only if one is given
    (SSO-only users have none)."""
    user = User(username=email, email=email)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    return user


def _record(action: str, invitation: Invitation, *, actor, **data) -> None:
    audit.record(
        action,
        actor=actor,
        target=invitation,
        organization=invitation.organization,
        email=invitation.email,
        **data,
    )
