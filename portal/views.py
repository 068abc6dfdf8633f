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
    """The web process is up and reaches its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 (any database failure means unhealthy)
        return JsonResponse({"status": "unhealthy", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


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
