"""Fixtures for sign-in tests: the local Cognito-like OpenID Connect provider
(accounts/local_idp/idp.mjs, a real Node process) and helpers to drive it."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.core.cache import cache

from conftest import REQUIRE_SERVICES, TEST_PASSWORD

IDP_SCRIPT = Path(__file__).resolve().parents[1] / "local_idp" / "idp.mjs"
CLIENT_ID = "portal-test"
CLIENT_SECRET = "portal-test-secret"


class LocalIdP:
    """A running idp.mjs. `set_account` changes what an account's tokens say."""

    def __init__(self, redirect_uri: str, accounts_file: Path):
        node = shutil.which("node")
        if node is None:
            if REQUIRE_SERVICES:
                pytest.fail("node not found: the local IdP needs Node.js")
            pytest.skip("node not found: the local IdP needs Node.js")
        self.accounts_file = accounts_file
        self.accounts: dict[str, dict] = {}
        self._write()
        env = dict(
            os.environ,
            IDP_PORT="0",
            IDP_ACCOUNTS_FILE=str(accounts_file),
            IDP_CLIENTS=json.dumps(
                [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri]}]
            ),
        )
        self.process = subprocess.Popen(
            [node, str(IDP_SCRIPT)],
            env=env,
            cwd=IDP_SCRIPT.parents[2],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.monotonic() + 30
        line = ""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("LISTENING "):
                break
            if self.process.poll() is not None:
                break
        if not line.startswith("LISTENING "):
            self.stop()
            raise RuntimeError("the local IdP did not start")
        self.url = line.split()[1]

    def _write(self) -> None:
        self.accounts_file.write_text(json.dumps(self.accounts))

    def set_account(self, login: str, **claims) -> None:
        self.accounts[login] = claims
        self._write()

    def reset(self) -> None:
        self.accounts = {}
        self._write()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def local_idp(live_server, tmp_path_factory):
    idp = LocalIdP(
        f"{live_server.url}/accounts/oidc/cognito/login/callback/",
        tmp_path_factory.mktemp("idp") / "accounts.json",
    )
    yield idp
    idp.stop()


@pytest.fixture
def idp(local_idp, settings):
    """The local IdP, reset, with the portal's Cognito provider pointed at it."""
    local_idp.reset()
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "APPS": [
                {
                    "provider_id": "cognito",
                    "name": "SSO",
                    "client_id": CLIENT_ID,
                    "secret": CLIENT_SECRET,
                    "settings": {"server_url": local_idp.url, "oauth_pkce_enabled": True},
                }
            ],
        }
    }
    return local_idp


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    # allauth counts failed sign-ins in the cache; tests must not inherit each other's.
    cache.clear()
    yield
    cache.clear()


def sso_sign_in(page, live_server_url: str, login: str, *, email_hint: str = "") -> None:
    """From the portal's sign-in page through the IdP's login form and back."""
    page.goto(f"{live_server_url}/accounts/login/")
    if email_hint:
        page.fill("#id_sso_email", email_hint)
    page.click("text=Sign in with SSO")
    idp_form_login(page, login)


def idp_form_login(page, login: str) -> None:
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any-password")
    page.click("button[type=submit]")
    page.wait_for_load_state()


def password_sign_in(page, live_server_url: str, email: str, password: str = TEST_PASSWORD, next_url=""):
    url = f"{live_server_url}/accounts/login/"
    if next_url:
        url += f"?next={next_url}"
    page.goto(url)
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def cognito_pool(moto, settings):
    """CUSTOMER_DIRECTORY=cognito, with a user pool and app client on moto."""
    from accounts.tests.cognito_pool import make_pool

    return make_pool(moto, settings)
