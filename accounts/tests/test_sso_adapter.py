"""Unit tests for the invitation-only social adapter and its decision rules."""

from datetime import timedelta

import pytest
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.sessions.middleware import SessionMiddleware
from django.test import RequestFactory
from django.utils import timezone

from accounts import invitations, sso
from accounts.adapters import SocialAccountAdapter
from accounts.models import Invitation
from audit.models import AuditEvent

ACME = [{"providerName": "AcmeAD"}]


def claims(email="carol@acme.example", verified=True, identities=ACME, as_userinfo=False):
    token = {"sub": "s1", "email": email, "email_verified": verified}
    if identities is not None:
        token["identities"] = identities
    data = {"id_token": token}
    if as_userinfo:
        data["userinfo"] = dict(token)
    return data


@pytest.fixture
def acme(tenants, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
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
    tenants.org_a.sso_providers = "AcmeAD"
    tenants.org_a.email_domains = "acme.example"
    tenants.org_a.save()
    return tenants


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("true", True),
        ("TRUE", True),
        (False, False),
        ("false", False),
        ("False", False),
        ("", False),
        ("yes", False),
        (1, False),
        (None, False),
    ],
)
def test_strict_bool(value, expected):
    assert sso.strict_bool(value) is expected


def test_provider_names_reads_cognito_identities_also_as_json_string():
    assert sso.provider_names("cognito", [{"identities": '[{"providerName": "AcmeAD"}]'}]) == {"AcmeAD"}
    assert sso.provider_names(
        "cognito", [{"identities": [{"providerName": "A"}, {"providerName": "B"}]}]
    ) == {"A", "B"}
    assert sso.provider_names("cognito", [{"email": "x@y"}]) == {sso.COGNITO_NATIVE}
    assert sso.provider_names("entra", [{"identities": ACME}]) == {"oidc:entra"}


def test_userinfo_false_overrides_id_token_true():
    data = claims()
    data["userinfo"] = {"email": "carol@acme.example", "email_verified": "false"}
    assert not sso.email_is_verified(sso.claim_sources(data))


@pytest.mark.django_db
def test_it_links_only_the_matching_invitation(acme):
    invitations.create_invitation(acme.org_a, "carol@acme.example", "uploader", acme.consultant)
    decision = sso.decide("cognito", claims(as_userinfo=True), None)
    assert not decision.refused and decision.invitation.email == "carol@acme.example"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"verified": "false"}, "email_unverified"),
        ({"verified": None}, "email_unverified"),
        ({"email": ""}, "email_missing"),
        ({"identities": [{"providerName": "GlobexOkta"}]}, "organization_mismatch"),
        ({"identities": None}, "organization_mismatch"),  # a pool user, not AcmeAD
        ({"email": "carol@evil.example"}, "not_invited"),
    ],
)
def test_it_refuses(acme, kwargs, reason):
    invitations.create_invitation(acme.org_a, "carol@acme.example", "uploader", acme.consultant)
    assert sso.decide("cognito", claims(**kwargs), None).refusal == reason


@pytest.mark.django_db
def test_domain_must_match_even_for_invited_address(acme):
    # The consultant invited an address outside the organisation's domains.
    invitations.create_invitation(acme.org_a, "carol@gmail.example", "uploader", acme.consultant)
    assert sso.decide("cognito", claims(email="carol@gmail.example"), None).refusal == "organization_mismatch"


@pytest.mark.django_db
def test_revoked_invitation_counts_as_none(acme):
    invitation = invitations.create_invitation(acme.org_a, "carol@acme.example", "uploader", acme.consultant)
    invitations.revoke_invitation(invitation, acme.consultant)
    assert sso.decide("cognito", claims(), None).refusal == "not_invited"


@pytest.mark.django_db
def test_expired_invitation(acme):
    invitation = invitations.create_invitation(acme.org_a, "carol@acme.example", "uploader", acme.consultant)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(days=1))
    assert sso.decide("cognito", claims(), None).refusal == "invitation_expired"


@pytest.mark.django_db
def test_linked_identity_is_rechecked_each_time(acme):
    assert not sso.decide("cognito", claims(email="alice@acme.example"), acme.alice).refused
    acme.alice.is_staff = True
    acme.alice.save()
    assert sso.decide("cognito", claims(email="alice@acme.example"), acme.alice).refusal == "staff_account"
    acme.alice.is_staff = False
    acme.alice.save()
    acme.org_a.sso_providers = "SomethingElse"
    acme.org_a.save()
    assert (
        sso.decide("cognito", claims(email="alice@acme.example"), acme.alice).refusal
        == "organization_mismatch"
    )


def _request():
    request = RequestFactory().get("/accounts/oidc/cognito/login/callback/")
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    return request


def _sociallogin(extra_data, uid="uid-1"):
    account = SocialAccount(provider="cognito", uid=uid, extra_data=extra_data)
    return SocialLogin(account=account, user=User(email=extra_data["id_token"].get("email", "")))


@pytest.mark.django_db
def test_adapter_refusal_is_a_403_page_with_an_audit_event_and_creates_nothing(acme):
    users = User.objects.count()
    with pytest.raises(ImmediateHttpResponse) as exc:
        SocialAccountAdapter().pre_social_login(_request(), _sociallogin(claims(verified="false")))
    assert exc.value.response.status_code == 403
    assert b"No access" in exc.value.response.content
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()
    event = AuditEvent.objects.get(action="auth.sso.refused")
    assert event.data["reason"] == "email_unverified"
    assert event.data["identity_providers"] == ["AcmeAD"]


@pytest.mark.django_db
def test_adapter_connects_invited_identity_without_usable_password(acme):
    invitations.create_invitation(acme.org_a, "carol@acme.example", "viewer", acme.consultant)
    sociallogin = _sociallogin(claims())
    SocialAccountAdapter().pre_social_login(_request(), sociallogin)
    carol = User.objects.get(email="carol@acme.example")
    assert sociallogin.user == carol and not carol.has_usable_password()
    assert SocialAccount.objects.get(uid="uid-1").user == carol
    assert carol.memberships.get().role == "viewer"


@pytest.mark.django_db
def test_adapter_keeps_existing_password(acme):
    sociallogin = _sociallogin(claims(email="alice@acme.example"))
    SocialAccountAdapter().pre_social_login(_request(), sociallogin)
    acme.alice.refresh_from_db()
    assert acme.alice.has_usable_password()
    assert SocialAccount.objects.get(uid="uid-1").user == acme.alice


@pytest.mark.django_db
def test_signup_is_closed(rf):
    from accounts.adapters import AccountAdapter

    assert AccountAdapter().is_open_for_signup(rf.get("/")) is False
    assert SocialAccountAdapter().is_open_for_signup(rf.get("/"), None) is False


@pytest.mark.django_db
def test_adapter_refuses_connect_from_a_signed_in_session(acme):
    sociallogin = _sociallogin(claims(email="alice@acme.example"))
    sociallogin.state["process"] = "connect"
    with pytest.raises(ImmediateHttpResponse):
        SocialAccountAdapter().pre_social_login(_request(), sociallogin)
    assert not SocialAccount.objects.exists()
