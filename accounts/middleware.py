"""Users who must have an authenticator app are sent to set one up before anything else."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from accounts.mfa import lacks_required_mfa

# Pages needed to set up MFA or to leave, and paths a browser or a load balancer fetches on
# its own (they have no side effects and must never be turned into a page view).
EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/reauthenticate/")
EXEMPT_PATHS = ("/favicon.ico",)


def is_page_navigation(request: HttpRequest) -> bool:
    """A person asking for a page, as opposed to the browser's own background request
    (favicon, prefetch, fetch/XHR, image). Browsers say which with Sec-Fetch-Dest; a client
    that sends no such header is treated as a navigation, as before."""
    if request.method not in ("GET", "HEAD"):
        return False
    dest = request.headers.get("Sec-Fetch-Dest")
    return dest is None or dest in ("document", "iframe")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._exempt(request.path):
            if lacks_required_mfa(user):
                return self._refuse(request)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"code": "mfa_required", "message": "Set up two-factor authentication first."},
                status=403,
            )
        if not is_page_navigation(request):
            # A redirect here would make the browser load the set-up page in the background,
            # and that load would run the page's view a second time behind the person's back.
            return HttpResponse(
                "Set up two-factor authentication first.", status=403, content_type="text/plain"
            )
        messages.info(request, "Set up an authenticator app before you continue.")
        return redirect("mfa_activate_totp")

    @staticmethod
    def _exempt(path: str) -> bool:
        return (
            path.startswith(EXEMPT_PREFIXES)
            or path in EXEMPT_PATHS
            or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
        )
