"""Whole-prefix work for retention: every version under a project's prefix, and deleting
them in batches. The prefix must end in "/" so `org/proj/` never matches `org/proj-evil/`."""

from __future__ import annotations

from uploads.s3.client import bucket, call, client
from uploads.s3.objects import version_entries
from uploads.s3.types import KeyVersion, StorageError

DELETE_BATCH = 1_000  # DeleteObjects' limit per request


def _check(prefix: str) -> None:
    if not prefix.endswith("/") or prefix.startswith("/") or len(prefix) < 3:
        raise ValueError(f"not a project prefix: {prefix!r}")


def list_versions_under(prefix: str) -> list[KeyVersion]:
    """Every object version and delete marker whose key starts with `prefix` (all pages)."""
    _check(prefix)
    # Defence in depth: S3 filters by prefix, and nothing outside it may ever be deleted.
    return [
        KeyVersion(
            e["Key"],
            e.get("VersionId") or "",
            None if marker else e.get("Size"),
            "" if marker else e.get("ETag", ""),
            e.get("LastModified"),
            marker,
        )
        for e, marker in version_entries(prefix)
        if e["Key"].startswith(prefix)
    ]


def delete_versions(prefix: str, versions: list[KeyVersion]) -> None:
    """Permanently delete exactly these versions (each must lie under `prefix`)."""
    _check(prefix)
    if any(not v.key.startswith(prefix) for v in versions):
        raise ValueError(f"a version outside {prefix!r} was asked to be deleted")
    for i in range(0, len(versions), DELETE_BATCH):
        batch = versions[i : i + DELETE_BATCH]
        resp = call(
            client().delete_objects,
            Bucket=bucket(),
            Delete={"Objects": [{"Key": v.key, "VersionId": v.version_id} for v in batch], "Quiet": True},
        )
        errors = resp.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageError(
                first.get("Code", "DeleteFailed"), f"{len(errors)} versions not deleted: {first}"
            )
