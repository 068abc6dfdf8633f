"""Production settings pass Django's deployment checks, and behind the TLS proxy plain http
is redirected and HSTS is sent."""

import os
import secrets
import subprocess
import sys

from conftest import ROOT


def production_env(tmp_path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        BEHIND_TLS_PROXY="true",
        ALLOWED_HOSTS="portal.example",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    return env


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_behind_the_proxy_http_is_redirected_and_https_gets_hsts(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "c = Client()\n"
        "r = c.get('/accounts/login/', HTTP_HOST='portal.example')\n"
        "print(r.status_code, r['Location'])\n"
        "r = c.get('/accounts/login/', HTTP_HOST='portal.example', HTTP_X_FORWARDED_PROTO='https')\n"
        "print(r.status_code, r['Strict-Transport-Security'])\n"
    )
    env = production_env(tmp_path) | {"DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    plain, secure = result.stdout.splitlines()
    assert plain == "301 https://portal.example/accounts/login/"
    assert secure == "200 max-age=31536000"
