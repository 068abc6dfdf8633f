"""Whole-prefix work for retention: every version under a project's prefix, and deleting
them in batches. The prefix must end in "/" so `org/proj/` never matches `org/proj-evil/`."""

from __future__ import annotations

from typing import Any

from uploads.s3.client import bucket, call, client
from uploads.s3.types import KeyVersion, StorageError

DELETE_BATCH = 1_000  # DeleteObjects' limit per request


def _check(prefix: str) -> None:
    if not prefix.endswith("/") or prefix.startswith("/") or len(prefix) < 3:
        raise ValueError(f"not a project prefix: {prefix!r}")


def list_versions_under(prefix: str) -> list[KeyVersion]:
    """Every object version and delete marker whose key starts with `prefix` (all pages)."""
    _check(prefix)
    out: list[KeyVersion] = []
    kwargs: dict[str, Any] = {"Bucket": bucket(), "Prefix": prefix}
    while True:
        resp = call(client().list_object_versions, **kwargs)
        for v in resp.get("Versions", []):
            out.append(
                KeyVersion(
                    v["Key"],
                    v.get("VersionId") or "",
                    v.get("Size"),
                    v.get("ETag", ""),
                    v.get("LastModified"),
                    False,
                )
            )
        for m in resp.get("DeleteMarkers", []):
            out.append(KeyVersion(m["Key"], m.get("VersionId") or "", None, "", m.get("LastModified"), True))
        if not resp.get("IsTruncated"):
            break
        kwargs["KeyMarker"] = resp.get("NextKeyMarker", "")
        kwargs["VersionIdMarker"] = resp.get("NextVersionIdMarker", "")
    # Defence in depth: S3 filters by prefix, and nothing outside it may ever be deleted.
    return [v for v in out if v.key.startswith(prefix)]


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
