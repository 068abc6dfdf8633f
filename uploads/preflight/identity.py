"""Sign-in through Amazon Cognito: the discovery document answers and the app client sends
people back to this portal."""

from __future__ import annotations

import json
import urllib.request

from django.conf import settings
from django.urls import reverse

from accounts import cognito
from uploads.preflight import Check, Finding, failed, not_checked, on_local_stand_in, passed

NOT_CONFIGURED = (
    "Cognito is not configured (COGNITO_CLIENT_ID is empty): customers sign in with local accounts"
)


def callback_url() -> str:
    path = reverse("openid_connect_callback", kwargs={"provider_id": "cognito"})
    return settings.PORTAL_BASE_URL.rstrip("/") + path


class CognitoDiscovery(Check):
    name = "cognito-discovery"
    fix_on_error = (
        "COGNITO_SERVER_URL must be https://cognito-idp.REGION.amazonaws.com/POOL_ID (deploy/ outputs it)."
    )

    def check(self) -> Finding:
        if not settings.COGNITO_CLIENT_ID:
            return not_checked(NOT_CONFIGURED)
        url = cognito.discovery_url()
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (a configured https URL)
            doc = json.load(resp)
        login = ("authorization_endpoint", "token_endpoint")
        missing = [k for k in ("issuer", "jwks_uri", *login) if not doc.get(k)]
        note = ""
        if on_local_stand_in() and set(missing) <= set(login):
            # moto serves the keys but no managed login pages.
            missing, note = [], "; the local stand-in has no managed login, so its endpoints are not checked"
        if missing:
            return failed(f"{url} lacks {', '.join(missing)}", self.fix_on_error)
        return passed(f"{url} answers (issuer {doc['issuer']}){note}")


class CognitoCallback(Check):
    name = "cognito-callback"
    fix_on_error = "COGNITO_CLIENT_ID must name an app client of the pool in COGNITO_SERVER_URL."

    def check(self) -> Finding:
        if not settings.COGNITO_CLIENT_ID:
            return not_checked(NOT_CONFIGURED)
        client = cognito.app_client()
        want = callback_url()
        problems = []
        if want not in client.callback_urls:
            have = ", ".join(client.callback_urls) or "none"
            problems.append(f"the app client's callback URLs ({have}) do not include {want}")
        if "code" not in client.allowed_oauth_flows:
            problems.append("the app client does not allow the authorization code flow")
        if "openid" not in client.allowed_oauth_scopes:
            problems.append("the app client does not allow the openid scope")
        if problems:
            return failed(
                "; ".join(problems),
                f"Set the app client's callback URL to {want} (PORTAL_BASE_URL must be the portal's public "
                "address), with the code flow and the openid and email scopes; deploy/ sets them from its "
                "domain parameter.",
            )
        return passed(f"the app client {client.client_id} sends people back to {want}")
