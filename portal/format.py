"""The one way sizes and times are written for people, in pages, emails and admin.

Sizes are binary and say so (KiB, MiB, GiB, TiB: 1 MiB = 1,048,576 bytes), rounded half up to
one decimal in whole-number arithmetic, so `uploads/static/uploads/format.js` writes exactly
the same text for the same number. Times are UTC and say so."""

import re
from datetime import UTC, datetime
from decimal import Decimal

from django.utils import timezone

UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]


def human_size(size: int | float | None) -> str:
    if size is None:
        return "—"
    n = max(0, int(size))
    i = 0
    while i < len(UNITS) - 1 and n >= 1024 ** (i + 1):
        i += 1
    if i == 0:
        return f"{n} B"
    unit = 1024**i
    tenths = (n * 10 + unit // 2) // unit
    if tenths >= 10240 and i < len(UNITS) - 1:
        i += 1
        unit = 1024**i
        tenths = (n * 10 + unit // 2) // unit
    return f"{tenths // 10}.{tenths % 10} {UNITS[i]}"


def human_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    if timezone.is_aware(value):
        value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y %H:%M} UTC"


_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?i?b?|bytes?)\s*$", re.IGNORECASE)
_FACTORS = {"": 1, "b": 1, "byte": 1, "bytes": 1}
for _i, _p in enumerate("kmgtp", start=1):
    _FACTORS[f"{_p}ib"] = _FACTORS[f"{_p}i"] = 1024**_i
    # "GB" as people type it is the decimal unit; the binary one says "GiB".
    _FACTORS[f"{_p}b"] = _FACTORS[_p] = 1000**_i


def parse_size(text: str) -> int:
    """Bytes from what a person types: "500 GB", "1 TiB", "1.5 TB", "2048". ValueError if
    it is not a size."""
    match = _SIZE_RE.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a size: write e.g. 500 GB, 1 TiB or 2048 bytes")
    number, unit = match.groups()
    factor = _FACTORS.get(unit.lower())
    if factor is None:
        raise ValueError(f"{unit!r} is not a size unit")
    return int(Decimal(number) * factor)
