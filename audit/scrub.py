"""What may go into an event's data: allowlisted keys, and never anything secret.

Keys outside the catalogue's allowlist are dropped (their names kept under "_dropped" so
the loss is visible), keys that name a secret are dropped at any depth, and string values
that look like credentials (AWS keys, session tokens, JWTs, bearer tokens) are redacted.
"""

import logging
import re
from typing import Any

from audit.catalogue import ALLOWED_FIELDS

logger = logging.getLogger("audit")

REDACTED = "[redacted]"
SECRET_KEY_WORDS = ("password", "secret", "token", "credential", "private", "session_key", "otp", "code_hash")
# Keys that contain a secret word but are fine: names, not values.
SAFE_KEYS = frozenset({"code", "source_identity", "role_session_name"})

# Keys whose value is a known public identifier, kept when it has exactly that shape: an
# access key id is not a secret (AWS says so) and is what CloudTrail lists, so the event
# can be matched to the S3 requests made with the credentials. Anywhere else it is redacted.
IDENTIFIER_VALUES = {"access_key_id": re.compile(r"^(?:AKIA|ASIA)[A-Z0-9]{16}$")}

_SECRET_VALUE_PATTERNS = [
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"),
    # AWS secrets (40) and session tokens (hundreds) are long base64 runs with mixed case
    # and digits; hex checksums (one case) and file names (dots, spaces) do not match.
    re.compile(r"(?=[A-Za-z0-9+/=]*[a-z])(?=[A-Za-z0-9+/=]*[A-Z])(?=[A-Za-z0-9+/=]*\d)[A-Za-z0-9+/=]{40,}"),
]


def safe_text(value: str) -> str:
    """Text PostgreSQL can store: its text and jsonb types refuse NUL (\\u0000), which would
    turn the refusal being audited into a lost event. Written as the visible symbol instead."""
    return value.replace("\x00", "\u2400") if "\x00" in value else value


def _secret_key(key: str) -> bool:
    lowered = key.lower()
    return lowered not in SAFE_KEYS and any(word in lowered for word in SECRET_KEY_WORDS)


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        value = safe_text(value)
        for pattern in _SECRET_VALUE_PATTERNS:
            value = pattern.sub(REDACTED, value)
        return value
    if isinstance(value, dict):
        return {
            safe_text(str(k)): (REDACTED if _secret_key(str(k)) else _scrub_value(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_scrub_value(v) for v in value]
    return value


def clean_data(action: str, data: dict[str, Any]) -> dict[str, Any]:
    """The data as it may be stored for this action."""
    cleaned: dict[str, Any] = {}
    dropped: list[str] = []
    for key, value in data.items():
        if key not in ALLOWED_FIELDS or _secret_key(key):
            dropped.append(safe_text(str(key)))
            continue
        shape = IDENTIFIER_VALUES.get(key)
        if shape is not None and isinstance(value, str) and shape.fullmatch(value):
            cleaned[key] = value
            continue
        cleaned[key] = _scrub_value(value)
    if dropped:
        logger.warning("audit %s: dropped data keys outside the allowlist: %s", action, sorted(dropped))
        cleaned["_dropped"] = sorted(dropped)
    return cleaned
