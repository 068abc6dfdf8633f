"""Customers never self-register: a consultant invites them (accounts.invitations).

The social adapter links a federated identity only as accounts.sso.decide allows, and
refuses everything else with a "no access" page and an audit event; nothing is created
for a refused identity."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base import AuthProcess
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import render

import audit
from accounts import directories, invitations, sso

SSO_ONLY = 'Customers sign in with the "Sign in with SSO" button below. The password form is for consultants.'


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            identifier = str(credentials.get("email") or credentials.get("username") or "")[:255]
            audit.record(
                "auth.login.failed", actor_label=identifier, identifier=identifier, reason="rate_limited"
            )
            raise
        if not directories.current().customer_passwords:
            self._refuse_customer_password(credentials)

    @staticmethod
    def _refuse_customer_password(credentials) -> None:
        """Where the customer directory keeps customers' passwords (Cognito), only staff
        sign in with a password here; everyone else is pointed to the SSO button, before
        any password is checked."""
        identifier = str(credentials.get("email") or credentials.get("username") or "").strip()
        user = User.objects.filter(Q(email__iexact=identifier) | Q(username__iexact=identifier)).first()
        if user is not None and (user.is_staff or user.is_superuser):
            return
        audit.record(
            "auth.login.failed",
            actor_label=identifier[:255],
            identifier=identifier[:255],
            reason="customer_directory_sso_only",
        )
        raise ValidationError(SSO_ONLY)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        account = sociallogin.account
        linked = sociallogin.user if sociallogin.is_existing else None
        decision = sso.decide(account.provider, account.extra_data, linked)
        if not decision.refused and sociallogin.state.get("process") == AuthProcess.CONNECT:
            # Linking happens only here, by the rules in accounts.sso, never from a signed-in
            # session's "connect another account" page.
            decision.refusal = "connect_disabled"
        if decision.refused:
            self._refuse(request, account.provider, decision)
        if linked is not None:
            return
        with transaction.atomic():
            user = decision.user or invitations.create_invited_user(decision.email)
            if decision.invitation is not None:
                invitations.accept_invitation(decision.invitation, user, method="sso")
            sociallogin.connect(request, user)
        audit.record(
            "auth.sso.linked",
            actor=user,
            target=user,
            organization=decision.invitation.organization if decision.invitation else None,
            provider=account.provider,
            identity_providers=sorted(decision.providers),
            email=decision.email,
        )

    def _refuse(self, request: HttpRequest, provider_id: str, decision: sso.Decision) -> None:
        audit.record(
            "auth.sso.refused",
            actor_label=decision.email[:255] or "(no email)",
            reason=decision.refusal,
            email=decision.email,
            provider=provider_id,
            identity_providers=sorted(decision.providers),
        )
        response = render(
            request,
            "accounts/no_access.html",
            {"message": sso.REFUSAL_MESSAGES[decision.refusal], "reason": decision.refusal},
            status=403,
        )
        raise ImmediateHttpResponse(response)

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None):
        audit.record(
            "auth.sso.failed",
            actor_label="(unknown)",
            provider=getattr(provider, "id", str(provider)),
            reason=str(error or "error"),
            detail=str(exception or "")[:200],
        )
