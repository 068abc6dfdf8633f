"""accounts/cognito.py against moto's cognito-idp: the app client as the pool describes it and
the discovery document's address (both read by check_aws), the pool id from
COGNITO_SERVER_URL, and errors as CognitoError with the AWS code."""

import json
import urllib.request

import pytest

from accounts import cognito
from conftest import free_port


def test_app_client_describes_the_portals_client(cognito_pool):
    app = cognito.app_client()
    assert app == cognito.AppClient(
        client_id=cognito_pool.client_id,
        callback_urls=("http://testserver/accounts/oidc/cognito/login/callback/",),
        logout_urls=("http://testserver/accounts/login/",),
        allowed_oauth_flows=("code",),
        allowed_oauth_scopes=("openid", "email", "profile"),
        supported_identity_providers=("COGNITO",),
    )


def test_discovery_url_serves_the_pools_document(cognito_pool):
    url = cognito.discovery_url()
    assert url.endswith(f"/{cognito_pool.pool_id}/.well-known/openid-configuration")
    document = json.load(urllib.request.urlopen(url, timeout=10))
    assert document["issuer"].endswith(f"/{cognito_pool.pool_id}")


def test_on_aws_discovery_is_under_the_issuer(settings):
    settings.AWS_ENDPOINT_URL = None
    settings.COGNITO_USER_POOL_ID = "eu-west-1_abc"
    settings.SOCIALACCOUNT_PROVIDERS = {"openid_connect": {"APPS": []}}
    settings.AWS_REGION = "eu-west-1"
    assert cognito.discovery_url() == (
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/openid-configuration"
    )


def test_the_pool_id_defaults_to_the_server_urls_last_segment():
    import os
    import subprocess
    import sys

    issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Xyz/"
    env = dict(os.environ, COGNITO_SERVER_URL=issuer, COGNITO_CLIENT_ID="portal")
    env.pop("COGNITO_USER_POOL_ID", None)
    code = "from django.conf import settings; print(settings.COGNITO_USER_POOL_ID)"
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={**env, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "eu-west-1_Xyz"


def test_errors_carry_the_aws_code(cognito_pool, settings):
    settings.COGNITO_CLIENT_ID = "no-such-client"
    with pytest.raises(cognito.CognitoError) as exc:
        cognito.app_client()
    assert exc.value.code == "ResourceNotFoundException"
    settings.AWS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(cognito.CognitoError) as exc:
        cognito.get_user("carol@acme.example")
    assert exc.value.code == "Unavailable"
