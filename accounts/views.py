"""Invitation acceptance and the "Sign in with SSO" entry point."""

from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST

import audit
from accounts import directories, invitations, sso
from accounts.models import Organization

SIGN_IN_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


def sso_enabled() -> bool:
    apps = settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"]
    return any(app["provider_id"] == sso.COGNITO_PROVIDER_ID for app in apps)


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password2 = forms.CharField(
        label="Password (again)",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            raise ValidationError("The two passwords differ.")
        if p1:
            validate_password(p1, User(username=self.email, email=self.email))
        return data


def _sso_url(hint: str) -> str:
    query = {"next": reverse("project_list")}
    if hint:
        query["auth_params"] = urlencode({"identity_provider": hint})
    return reverse("openid_connect_login", args=[sso.COGNITO_PROVIDER_ID]) + "?" + urlencode(query)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitations.find_by_token(token)
    if invitation is None:
        audit.record("invitation.refused", actor=request.user, reason="unknown")
        return render(request, "accounts/invitation_invalid.html", {"reason": "unknown"}, status=404)
    if not invitation.is_pending:
        audit.record(
            "invitation.refused",
            actor=request.user,
            target=invitation,
            organization=invitation.organization,
            email=invitation.email,
            reason=invitation.status,
        )
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"reason": invitation.status, "invitation": invitation},
            status=410,
        )
    email = invitation.email
    existing = User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).first()
    # A directory that keeps customers' passwords elsewhere (Cognito) signs them in there only.
    passwords = directories.current().customer_passwords
    ctx = {
        "invitation": invitation,
        "existing": existing,
        "passwords": passwords,
        # Only where the organisation signs in through its own IdP, or the directory's
        # sign-in is the only one: for the rest the button would lead to a refusal.
        "sso_url": _sso_url(invitation.organization.idp_hint)
        if sso_enabled() and (invitation.organization.sso_providers or not passwords)
        else "",
    }

    if request.user.is_authenticated:
        if request.user != existing:
            ctx["other_user"] = request.user
            return render(request, "accounts/invitation.html", ctx, status=403)
        if request.method == "POST":
            invitations.accept_invitation(invitation, request.user, method="signed_in")
            messages.success(request, f"You now have access to {invitation.organization}.")
            return redirect("project_list")
        return render(request, "accounts/invitation.html", ctx)

    if existing is not None or not passwords:
        # An existing account proves itself by signing in; the invitation must not be a
        # way to set a new password on it.
        if passwords:
            ctx["login_url"] = reverse("account_login") + "?" + urlencode({"next": request.get_full_path()})
        return render(request, "accounts/invitation.html", ctx)

    form = SetPasswordForm(request.POST or None, email=email)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = invitations.create_invited_user(email, password=form.cleaned_data["password1"])
            invitations.accept_invitation(invitation, user, method="password")
        login(request, user, backend=SIGN_IN_BACKEND)
        messages.success(request, f"Welcome. You now have access to {invitation.organization}.")
        return redirect("project_list")
    ctx["form"] = form
    return render(request, "accounts/invitation.html", ctx)


@require_POST
def sso_login(request: HttpRequest) -> HttpResponse:
    """Start "Sign in with SSO". With a work email whose domain an organisation lists,
    Cognito is told that organisation's IdP so the user goes straight to it."""
    if not sso_enabled():
        messages.error(request, "Single sign-on is not configured.")
        return redirect("account_login")
    email = request.POST.get("email", "").strip().lower()
    hint = ""
    if "@" in email:
        domain = email.rpartition("@")[2]
        for org in Organization.objects.filter(is_active=True).exclude(idp_hint="").exclude(email_domains=""):
            if domain in org.accepted_email_domains():
                hint = org.idp_hint
                break
    query = request.GET.copy()
    query["next"] = request.POST.get("next") or reverse("project_list")
    if hint:
        query["auth_params"] = urlencode({"identity_provider": hint})
    request.GET = query
    return oidc_views.login(request, sso.COGNITO_PROVIDER_ID)
