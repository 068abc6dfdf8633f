"""Who is making the current request, so audit.record() can fill in the IP address and
user agent without every caller passing the request along."""

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None
    user_agent: str


current_request: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)
