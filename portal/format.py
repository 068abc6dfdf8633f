"""The one way sizes and times are written for people, in pages, emails and admin.

Sizes are binary and say so (KiB, MiB, GiB, TiB: 1 MiB = 1,048,576 bytes), rounded half up to
one decimal in whole-number arithmetic, so `uploads/static/uploads/format.js` writes exactly
the same text for the same number. Times are UTC and say so."""

from datetime import UTC, datetime

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
