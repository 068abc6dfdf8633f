"""Outgoing project webhooks, which must never become a way into our own network.

Rules: https only; no credentials in the URL; the host must resolve only to public
addresses, and we connect to the address we checked (so DNS cannot change its answer
between the check and the request); redirects are never followed. Requests carry an
HMAC-SHA256 signature over the timestamp and body."""

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


class WebhookRefused(Exception):
    """The URL may not be called. Never retried."""


class WebhookFailed(Exception):
    """The call was made and failed. `retry` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool):
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    address: str


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str) -> Target:
    """Resolve and vet a webhook URL; raises WebhookRefused without sending anything."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise WebhookRefused("Webhook URLs must use https.")
    if parts.username or parts.password:
        raise WebhookRefused("Webhook URLs may not contain a user name or password.")
    host = parts.hostname
    if not host:
        raise WebhookRefused("The webhook URL has no host name.")
    try:
        port = parts.port or 443
    except ValueError:
        raise WebhookRefused("The webhook URL has an invalid port.") from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(f"The webhook host {host!r} does not resolve.") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        # Every answer must be public: an attacker controlling DNS could otherwise mix
        # a private address into the list.
        if not _is_public(address):
            raise WebhookRefused(f"The webhook host {host!r} resolves to a non-public address.")
        addresses.append(str(address))
    if not addresses:
        raise WebhookRefused(f"The webhook host {host!r} does not resolve.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(host=host, port=port, path=path, address=addresses[0])


def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the vetted address while verifying the certificate for the host name."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=_ssl_context())
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_json(url: str, payload: dict[str, Any], secret: str) -> int:
    """POST the payload once. Returns the HTTP status on 2xx; raises otherwise."""
    target = check_url(url)
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "UploadPortal-Webhook/1",
        "X-Portal-Timestamp": timestamp,
        "X-Portal-Signature": sign(secret, timestamp, body),
    }
    conn = _PinnedHTTPSConnection(target, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(64 * 1024)
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookFailed(f"Could not reach the webhook: {exc.__class__.__name__}", retry=True) from None
    finally:
        conn.close()
    status = response.status
    if 200 <= status < 300:
        return status
    if 300 <= status < 400:
        raise WebhookFailed(f"The webhook answered {status}; redirects are not followed.", retry=False)
    retry = status >= 500 or status in (408, 429)
    raise WebhookFailed(f"The webhook answered {status}.", retry=retry)


def slack_escape(text: str) -> str:
    """Make customer-supplied text inert in Slack-compatible messages: no <!channel>,
    <@user> or <url|label> mentions or links, no @channel, no line breaks."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A word joiner after @ keeps "@channel" from being read as a mention when the
    # receiving end has link_names on.
    return text.replace("@", "@\u2060")


def validate_webhook_url(value: str) -> None:
    """Form-time check (the address check happens again at every send, since DNS changes)."""
    from django.core.exceptions import ValidationError

    try:
        check_url(value)
    except WebhookRefused as exc:
        raise ValidationError(str(exc)) from None
