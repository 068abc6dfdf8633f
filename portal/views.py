"""Paths that browsers and load balancers fetch on their own: no session work, no redirects."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import csrf as csrf_views
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

import audit
from portal.net import client_ip


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    path = Path(finders.find("portal/favicon.ico") or settings.STATIC_ROOT / "portal" / "favicon.ico")
    return HttpResponse(path.read_bytes(), content_type="image/x-icon")


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """The web process is up and reaches its database and its cache (sign-in's rate limits
    and sessions' MFA state live there): what a load balancer needs to route to it. S3 is
    not asked: a slow S3 must not take every web task out of service."""
    problems = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 (any database failure means unhealthy)
        problems["database"] = type(exc).__name__
    try:
        cache.set("healthz", 1, 10)
        if cache.get("healthz") != 1:
            problems["cache"] = "no answer"
    except Exception as exc:  # noqa: BLE001 (any cache failure means unhealthy)
        problems["cache"] = type(exc).__name__
    if problems:
        return JsonResponse(
            {"status": "unhealthy", **problems}, status=503, headers={"Cache-Control": "no-store"}
        )
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


class HealthCheckMiddleware:
    """Answers /healthz before any other middleware: a load balancer's health check names
    the task's private address as its Host (not in ALLOWED_HOSTS) and speaks plain HTTP
    behind TLS termination, so host validation and the HTTPS redirect must not see it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)


# At most this many CSRF failures a minute are audited per client address, so a flood of
# forged posts cannot fill the log; the rest are still refused.
CSRF_AUDITS_PER_MINUTE = 10


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Django's CSRF refusal, audited (rate-limited per address) and in JSON for the API."""
    key = f"audit:csrf:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, 60)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    if count <= CSRF_AUDITS_PER_MINUTE:
        audit.record(
            "request.refused",
            actor=request.user if hasattr(request, "user") else None,
            code="csrf_failed",
            message=reason[:200],
            status=403,
            method=request.method,
            path=request.path[:500],
        )
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "csrf_failed", "message": "Your session token is missing or stale; reload the page."},
            status=403,
        )
    return csrf_views.csrf_failure(request, reason=reason)
