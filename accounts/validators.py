"""Slugs become S3 key prefixes and IAM policy resources, so they are held to a strict
ASCII alphabet: no dots (no `..`), no slashes, no look-alike unicode, no wildcards."""

import re

from django.core.exceptions import ValidationError

KEY_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$")


def validate_key_slug(value: str) -> None:
    if not value or not KEY_SLUG_RE.fullmatch(value) or "--" in value:
        raise ValidationError(
            "Use 1 to 50 lower-case letters a-z, digits and single hyphens, starting and "
            "ending with a letter or digit. The slug becomes part of the storage path, so "
            "dots, slashes, spaces and accented or other non-ASCII letters are not allowed.",
            code="unsafe_slug",
        )
