"""Users who must have an authenticator app are sent to set one up before anything else."""

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect

from accounts.mfa import lacks_required_mfa

# Pages needed to set up MFA or to leave.
EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/reauthenticate/")


class RequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._exempt(request.path):
            if lacks_required_mfa(user):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"code": "mfa_required", "message": "Set up two-factor authentication first."},
                        status=403,
                    )
                messages.info(request, "Set up an authenticator app before you continue.")
                return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        return path.startswith(EXEMPT_PREFIXES) or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
