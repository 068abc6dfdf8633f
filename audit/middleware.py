"""Sets the audit context (audit.context) for each request, and records refused requests."""

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404

from audit.context import RequestContext, current_request
from audit.log import record
from portal.net import client_ip

logger = logging.getLogger("audit")


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(
            RequestContext(
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
            )
        )
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)

    def process_exception(self, request, exception):
        """A view refused the request: an id outside the user's tenancy (Tenancy raises
        Http404, so it answers like a missing one) or a forbidden action. Recorded as
        request.refused; the response is unchanged."""
        if isinstance(exception, Http404):
            code, status = "not_found", 404
        elif isinstance(exception, PermissionDenied):
            code, status = "forbidden", 403
        else:
            return None
        try:
            record(
                "request.refused",
                actor=getattr(request, "user", None),
                code=code,
                status=status,
                method=request.method,
                path=request.path[:500],
            )
        except Exception:
            # Never turn a refusal into a server error; the failure itself is logged.
            logger.exception("could not record a refused request")
        return None
