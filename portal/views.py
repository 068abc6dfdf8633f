"""Paths that browsers and load balancers fetch on their own: no session work, no redirects."""

from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe


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
