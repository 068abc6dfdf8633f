"""Rows for exports and the archive: one shape for CSV, JSON Lines and S3."""

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from audit.chain import HASHED_FIELDS
from audit.models import AuditEvent

# Every hashed column, so an export can be verified against the chain on its own.
COLUMNS = ("id", *HASHED_FIELDS, "hash")
CHUNK = 2000
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def rows(queryset: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    """Events as dicts, read with a server-side cursor in chunks (constant memory)."""
    for values in queryset.values_list(*COLUMNS).iterator(chunk_size=CHUNK):
        row = dict(zip(COLUMNS, values, strict=True))
        row["created_at"] = row["created_at"].isoformat()
        yield row


def jsonl_lines(events: Iterable[dict[str, Any]]) -> Iterator[str]:
    for row in events:
        yield json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True) + "\n"


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(events: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for row in events:
        yield writer.writerow([safe_cell(row[c]) for c in COLUMNS])


def batched(lines: Iterable[str], size: int = 64 * 1024) -> Iterator[bytes]:
    """Join small lines into chunks of about `size` bytes: one write per row is slow."""
    buffer: list[str] = []
    length = 0
    for line in lines:
        buffer.append(line)
        length += len(line)
        if length >= size:
            yield "".join(buffer).encode()
            buffer, length = [], 0
    if buffer:
        yield "".join(buffer).encode()
