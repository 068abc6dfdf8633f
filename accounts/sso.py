"""Which local user, if any, a federated identity may become.

Every IdP federated into the Cognito user pool can assert any email address as verified, so
an identity is linked only when its email is strictly verified, and both its IdP and its
email domain are ones the target organisation lists. SSO never links to a staff account."""

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db.models import Q

from accounts import directories
from accounts.models import Invitation, Membership, Organization

COGNITO_PROVIDER_ID = "cognito"
# Name an organisation lists to accept users of the Cognito user pool itself, whose tokens
# carry no `identities` claim.
COGNITO_NATIVE = "COGNITO"


def strict_bool(value: Any) -> bool:
    """True only for JSON true or the string "true" (Cognito's userInfo sends strings).
    allauth would count any non-empty string, including "false", as verified."""
    if value is True:
        return True
    return isinstance(value, str) and value.strip().lower() == "true"


def claim_sources(extra_data: dict) -> list[dict]:
    """The claim sets allauth stored: the ID token and the userInfo response."""
    sources = [extra_data[k] for k in ("id_token", "userinfo") if isinstance(extra_data.get(k), dict)]
    return sources or [extra_data]


def identity_email(sources: list[dict]) -> str | None:
    emails = {str(s["email"]).strip().lower() for s in sources if s.get("email")}
    # Two different addresses in one sign-in is not something to guess about.
    return emails.pop() if len(emails) == 1 else None


def email_is_verified(sources: list[dict]) -> bool:
    with_email = [s for s in sources if s.get("email")]
    return bool(with_email) and all(strict_bool(s.get("email_verified")) for s in with_email)


def _identities(claims: dict) -> list[dict] | None:
    value = claims.get("identities")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list):
        return None
    return [i for i in value if isinstance(i, dict)]


def provider_names(provider_id: str, sources: list[dict]) -> set[str]:
    """The IdP names an organisation must accept for this identity.

    For Cognito: each identities[].providerName (the signed ID token first), or COGNITO for
    a user of the pool itself. For any other OpenID Connect IdP: "oidc:<provider_id>"."""
    if provider_id != COGNITO_PROVIDER_ID:
        return {f"oidc:{provider_id}"}
    for claims in sources:
        identities = _identities(claims)
        if identities is not None:
            names = {str(i.get("providerName", "")).strip() for i in identities}
            names.discard("")
            return names or {COGNITO_NATIVE}
    return {COGNITO_NATIVE}


@dataclass
class Decision:
    email: str = ""
    providers: set[str] = field(default_factory=set)
    user: User | None = None
    invitation: Invitation | None = None
    refusal: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.refusal)


# Reasons shown to the person refused, keyed by the reason stored in the audit log.
REFUSAL_MESSAGES = {
    "email_missing": "Your identity provider did not send an email address.",
    "email_unverified": "Your identity provider did not confirm that your email address is verified.",
    "staff_account": "Consultant accounts cannot sign in with SSO. Sign in with your password.",
    "inactive": "This account is disabled.",
    "not_invited": "There is no invitation for this email address.",
    "invitation_expired": "Your invitation has expired. Ask your consultant to send a new one.",
    "connect_disabled": "Identities are linked at sign-in only. Sign out, then use Sign in with SSO.",
    "organization_mismatch": "Your organisation does not accept sign-in from this identity provider "
    "or email domain.",
}


def decide(provider_id: str, extra_data: dict, linked_user: User | None) -> Decision:
    sources = claim_sources(extra_data)
    decision = Decision(providers=provider_names(provider_id, sources))
    email = identity_email(sources)
    if not email:
        decision.refusal = "email_missing"
        return decision
    decision.email = email
    if not email_is_verified(sources):
        decision.refusal = "email_unverified"
        return decision

    if linked_user is not None:
        decision.user = linked_user
        decision.refusal = _user_refusal(linked_user, decision)
        return decision

    user = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
    if user is not None and (user.is_staff or user.is_superuser):
        decision.refusal = "staff_account"
        return decision

    open_invitations = list(
        Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("organization")
        .order_by("-created_at")
    )
    pending = [i for i in open_invitations if i.is_pending]
    for invitation in pending:
        org = invitation.organization
        if org.is_active and _accepts(org, decision):
            decision.user = user
            decision.invitation = invitation
            return decision

    if user is not None:
        decision.user = user
        refusal = _user_refusal(user, decision)
        # A customer without memberships may still hold an expired invitation: say so.
        if refusal != "not_invited":
            decision.refusal = refusal
            return decision
    if pending:
        decision.refusal = "organization_mismatch"
    elif open_invitations:
        decision.refusal = "invitation_expired"
    else:
        decision.refusal = "not_invited"
    return decision


def _accepts(org: Organization, decision: Decision) -> bool:
    """The organisation lists the identity's IdP and domain, or the customer directory
    made this identity itself for an invited address (accounts.directories)."""
    return org.accepts_sso_identity(decision.providers, decision.email) or directories.current().vouches_for(
        decision.providers
    )


def _user_refusal(user: User, decision: Decision) -> str:
    if user.is_staff or user.is_superuser:
        return "staff_account"
    if not user.is_active:
        return "inactive"
    memberships = Membership.objects.filter(user=user, organization__is_active=True).select_related(
        "organization"
    )
    if not memberships:
        return "not_invited"
    if not any(_accepts(m.organization, decision) for m in memberships):
        return "organization_mismatch"
    return ""
