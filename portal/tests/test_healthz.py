"""GET /healthz, as a load balancer asks it: the task's own address as Host, plain HTTP
behind TLS termination, no session. It says whether the database and the cache answer."""

import pytest

pytestmark = pytest.mark.django_db


def test_it_answers_ok_when_database_and_cache_answer(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    assert r["Cache-Control"] == "no-store"


def test_it_answers_a_host_that_is_not_allowed(client, settings):
    # An ALB health check sends the target's private IP as Host.
    settings.ALLOWED_HOSTS = ["portal.example.com"]
    r = client.get("/healthz", HTTP_HOST="10.0.3.17:8000")
    assert r.status_code == 200
    assert client.get("/", HTTP_HOST="10.0.3.17:8000").status_code == 400


def test_it_is_not_redirected_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/accounts/login/").status_code == 301


def test_it_reports_a_cache_that_does_not_answer(client, settings):
    # A Redis that is not there: nothing listens on port 1.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "unhealthy", "cache": "ConnectionError"}


def test_it_rejects_post(client):
    assert client.post("/healthz").status_code == 405
