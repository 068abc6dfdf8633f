"""How the accounts app's audited actions happen, for audit/tests/test_catalogue_coverage.py:
invitations through admin and the emailed link, SSO through the social adapter, MFA through
allauth's own pages."""

import time

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.middleware import SessionMiddleware
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from accounts import invitations
from accounts.adapters import SocialAccountAdapter
from accounts.models import Invitation
from audit.tests.scenarios import Ctx, admin_post, scenario, staff
from conftest import TEST_PASSWORD

NEW_PASSWORD = "a-long-enough-passphrase"


# --- invitations ------------------------------------------------------------------------


def _invite(ctx: Ctx, email: str = "carol@acme.example") -> tuple[Invitation, str]:
    """An invitation sent by the consultant, and the path of the emailed link."""
    ctx.request.getfixturevalue("settings").PORTAL_ORIGINS = ["http://testserver"]
    # The email goes out on commit; the walking test runs inside one transaction.
    with _on_commit(ctx):
        invitation = invitations.create_invitation(ctx.tenants.org_a, email, "viewer", ctx.tenants.consultant)
    body = mail.outbox[-1].body
    link = next(line for line in body.splitlines() if "/invitations/" in line).strip()
    return invitation, link.replace("http://testserver", "")


def _changelist_action(ctx: Ctx, url: str, action: str, pks: list) -> None:
    ctx.client.force_login(staff(ctx.tenants.consultant))
    with _on_commit(ctx):
        response = ctx.client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks]})
    assert response.status_code == 302, response.content[:500]


@scenario("invitation.created")
def invite_in_admin(ctx: Ctx) -> None:
    ctx.request.getfixturevalue("settings").PORTAL_ORIGINS = ["http://testserver"]

    def fill(data: dict) -> None:
        data.update(organization=str(ctx.tenants.org_a.pk), email="carol@acme.example", role="viewer")

    admin_post(ctx, ctx.tenants.consultant, reverse("admin:accounts_invitation_add"), fill)
    assert Invitation.objects.filter(email="carol@acme.example").exists()


@scenario("invitation.resent")
def resend_in_admin(ctx: Ctx) -> None:
    invitation, _ = _invite(ctx)
    _changelist_action(ctx, reverse("admin:accounts_invitation_changelist"), "resend", [invitation.pk])
    assert len(mail.outbox) == 2


@scenario("invitation.revoked")
def revoke_in_admin(ctx: Ctx) -> None:
    invitation, _ = _invite(ctx)
    _changelist_action(ctx, reverse("admin:accounts_invitation_changelist"), "revoke", [invitation.pk])
    invitation.refresh_from_db()
    assert invitation.status == "revoked"


@scenario("invitation.accepted")
def accept_with_a_password(ctx: Ctx) -> None:
    _, path = _invite(ctx)
    response = ctx.client.post(path, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302


@scenario("invitation.refused")
def open_a_revoked_link(ctx: Ctx) -> None:
    invitation, path = _invite(ctx)
    invitations.revoke_invitation(invitation, ctx.tenants.consultant)
    assert ctx.client.get(path).status_code == 410
    assert ctx.client.get("/invitations/not-a-real-token/").status_code == 404


@scenario("admin.invitation.deleted")
def bulk_delete_invitations(ctx: Ctx) -> None:
    # Through the "delete selected" action, which skips ModelAdmin.delete_model.
    first, _ = _invite(ctx, "carol@acme.example")
    second, _ = _invite(ctx, "dave@acme.example")
    ctx.client.force_login(ctx.superuser())
    url = reverse("admin:accounts_invitation_changelist")
    data = {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"}
    assert ctx.client.post(url, data).status_code == 302
    assert not Invitation.objects.filter(pk__in=[first.pk, second.pk]).exists()


# --- SSO, through the invitation-only social adapter ------------------------------------


def _acme_sso(ctx: Ctx) -> None:
    ctx.request.getfixturevalue("settings").SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "APPS": [
                {
                    "provider_id": "cognito",
                    "name": "SSO",
                    "client_id": "c",
                    "secret": "s",
                    "settings": {"server_url": "http://127.0.0.1:9/unused"},
                }
            ]
        }
    }
    org = ctx.tenants.org_a
    org.sso_providers, org.email_domains = "AcmeAD", "acme.example"
    org.save()


def _callback_request():
    request = RequestFactory().get("/accounts/oidc/cognito/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    return request


def _sociallogin(email: str, verified: bool = True) -> SocialLogin:
    token = {
        "sub": "s1",
        "email": email,
        "email_verified": verified,
        "identities": [{"providerName": "AcmeAD"}],
    }
    account = SocialAccount(provider="cognito", uid="uid-1", extra_data={"id_token": token})
    return SocialLogin(account=account, user=User(email=email))


@scenario("auth.sso.linked")
def first_sso_sign_in_of_an_invitee(ctx: Ctx) -> None:
    _acme_sso(ctx)
    _invite(ctx)
    SocialAccountAdapter().pre_social_login(_callback_request(), _sociallogin("carol@acme.example"))
    assert SocialAccount.objects.get(uid="uid-1").user.email == "carol@acme.example"


@scenario("auth.sso.refused")
def sso_with_an_unverified_email(ctx: Ctx) -> None:
    _acme_sso(ctx)
    try:
        SocialAccountAdapter().pre_social_login(
            _callback_request(), _sociallogin("carol@acme.example", False)
        )
    except ImmediateHttpResponse as exc:
        assert exc.response.status_code == 403
    else:
        raise AssertionError("the adapter let an unverified email in")


@scenario("auth.sso.failed")
def idp_answers_with_an_error(ctx: Ctx) -> None:
    _acme_sso(ctx)
    response = ctx.client.get("/accounts/oidc/cognito/login/callback/?error=access_denied")
    assert response.status_code in (200, 400, 401, 403)


# --- MFA, through allauth's pages -------------------------------------------------------


def _on_commit(ctx: Ctx):
    return ctx.request.getfixturevalue("django_capture_on_commit_callbacks")(execute=True)


def _totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _activate_totp(ctx: Ctx) -> None:
    """Alice signs in with her password (allauth then counts her as recently authenticated)
    and sets up an authenticator app."""
    ctx.request.getfixturevalue("settings").MFA_TOTP_TOLERANCE = 1
    response = ctx.client.post(
        reverse("account_login"), {"login": "alice@acme.example", "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    # allauth asks for the password again before a security change.
    response = ctx.client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    assert response.status_code == 302
    url = reverse("mfa_activate_totp")
    page = ctx.client.get(url)
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    secret = page.context["form"].secret
    # allauth sends its signals on commit; the walking test runs inside one transaction.
    with _on_commit(ctx):
        response = ctx.client.post(url, {"code": _totp_code(secret)})
    assert response.status_code == 302, response.content[:500]


@scenario("mfa.enabled")
def set_up_an_authenticator_app(ctx: Ctx) -> None:
    _activate_totp(ctx)


@scenario("mfa.disabled")
def remove_the_authenticator_app(ctx: Ctx) -> None:
    _activate_totp(ctx)
    assert ctx.client.post(reverse("mfa_deactivate_totp")).status_code == 302


@scenario("mfa.reset")
def regenerate_recovery_codes(ctx: Ctx) -> None:
    _activate_totp(ctx)
    with _on_commit(ctx):
        assert ctx.client.post(reverse("mfa_generate_recovery_codes")).status_code == 302


# --- the customer directory (CUSTOMER_DIRECTORY=cognito, moto's cognito-idp) -------------


def _cognito(ctx: Ctx):
    from accounts.tests.cognito_pool import make_pool

    return make_pool(ctx.request.getfixturevalue("moto"), ctx.request.getfixturevalue("settings"))


@scenario("directory.user_created")
def invite_under_the_cognito_directory(ctx: Ctx) -> None:
    pool = _cognito(ctx)
    _invite(ctx)
    assert pool.user("carol@acme.example")["attributes"]["email_verified"] == "true"


@scenario("directory.user_disabled", "directory.user_enabled")
def disable_and_enable_a_customer_in_admin(ctx: Ctx) -> None:
    pool = _cognito(ctx)
    pool.add_user("alice@acme.example")
    url = reverse("admin:accounts_customeruser_change", args=[ctx.tenants.alice.pk])
    admin_post(ctx, ctx.tenants.consultant, url, lambda data: data.pop("is_active", None))
    assert pool.user("alice@acme.example")["Enabled"] is False
    admin_post(ctx, ctx.tenants.consultant, url, lambda data: data.update(is_active="on"))
    assert pool.user("alice@acme.example")["Enabled"] is True


@scenario("directory.failed")
def invite_while_cognito_is_unreachable(ctx: Ctx) -> None:
    from conftest import free_port

    _cognito(ctx)
    ctx.request.getfixturevalue("settings").AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    invitation = invitations.create_invitation(
        ctx.tenants.org_a, "carol@acme.example", "viewer", ctx.tenants.consultant
    )
    assert invitation.directory_error and Invitation.objects.filter(pk=invitation.pk).exists()
