"""Turning "the browser says it finished" into "we know every byte arrived".

The metadata check reads no object bytes: HeadObject (checksum mode) on the recorded
version gives the size and the full-object CRC64NVME S3 computed from the bytes it stored,
compared with the plan and with the CRC64NVME the browser computed from the file. It takes
the same time at any size. Deep verification (per project, or a CLI upload with a declared
SHA-256) streams the recorded version with ranged GETs, several in flight, memory bounded by
(parallel + 1) x chunk, and compares its SHA-256 with the browser's and the customer's.

Exactly one verification per upload: a database lease keeps two workers apart, and the
VerificationResult row (one per upload) is written in the same transaction as the status,
the audit event and the queued notifications."""

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from uploads import delivery, dispatch, leases, notifications, s3
from uploads.models import TaskLease, Upload, VerificationResult

log = logging.getLogger(__name__)

Outcome = VerificationResult.Outcome
Method = VerificationResult.Method


class LeaseLost(Exception):
    """Another worker took the work over (ours stalled past the lease); stop quietly."""


@dataclass
class Finding:
    outcome: str
    method: str
    reason: str = ""
    object_size: int | None = None
    object_crc64nvme: str = ""
    object_sha256: str = ""
    version_id: str = ""
    extra: dict = field(default_factory=dict)


def lease_key(upload_id) -> str:
    return f"verify:{upload_id}"


def pending_upload_ids(limit: int = 500) -> list[str]:
    """Uploads the database says still need verifying and no live worker holds."""
    held = TaskLease.objects.filter(key__startswith="verify:", expires_at__gt=timezone.now()).values_list(
        "key", flat=True
    )
    held_ids = {k.split(":", 1)[1] for k in held}
    ids = Upload.objects.filter(
        status__in=(Upload.Status.UPLOADED, Upload.Status.VERIFYING), verification__isnull=True
    ).values_list("pk", flat=True)[:limit]
    return [str(i) for i in ids if str(i) not in held_ids]


def verify(upload_id: str) -> str:
    """Verify one upload if it needs it and nobody else is on it. Returns what happened."""
    key = lease_key(upload_id)
    holder = leases.new_holder()
    if not leases.acquire(key, holder):
        return "busy"
    try:
        return _verify_leased(upload_id, key, holder)
    except LeaseLost:
        return "lease_lost"
    finally:
        leases.release(key, holder)


def _verify_leased(upload_id: str, key: str, holder: str) -> str:
    upload = Upload.objects.select_related("project__organization").filter(pk=upload_id).first()
    if upload is None:
        return "missing"
    if VerificationResult.objects.filter(upload=upload).exists():
        return "done"
    if upload.status not in (Upload.Status.UPLOADED, Upload.Status.VERIFYING):
        return "not_ready"
    upload.transition(Upload.Status.VERIFYING, allowed={Upload.Status.UPLOADED})
    leases.checkpoint("verify.started")

    started = time.monotonic()
    last_renewal = [time.monotonic()]

    def keep_lease() -> None:
        # Renew at a third of the lease so a long deep verification keeps it.
        if time.monotonic() - last_renewal[0] > settings.TASK_LEASE_SECONDS / 3:
            if not leases.renew(key, holder):
                raise LeaseLost(key)
            last_renewal[0] = time.monotonic()

    finding = check(upload, keep_lease)
    leases.checkpoint("verify.checked")
    duration_ms = int((time.monotonic() - started) * 1000)

    if not _record_finding(upload.pk, key, holder, finding, duration_ms):
        return "done"
    leases.checkpoint("verify.committed")
    # After the commit, so a worker finishing another file of the delivery sees this one.
    delivery.delivery_after_verification(upload_id=str(upload.pk))
    return finding.outcome


def _record_finding(upload_pk, key: str, holder: str, finding: Finding, duration_ms: int) -> bool:
    """The one verification result, the upload's new state and its audit event, together.
    False when another worker recorded it first."""
    with transaction.atomic():
        upload = Upload.objects.select_for_update().select_related("project__organization").get(pk=upload_pk)
        if VerificationResult.objects.filter(upload=upload).exists():
            return False
        if not leases.renew(key, holder):
            raise LeaseLost(key)
        result = VerificationResult.objects.create(
            upload=upload,
            outcome=finding.outcome,
            method=finding.method,
            reason=finding.reason,
            object_size=finding.object_size,
            object_crc64nvme=finding.object_crc64nvme,
            object_sha256=finding.object_sha256,
            version_id=finding.version_id,
            duration_ms=duration_ms,
        )
        to, action, fields = _settled_state(finding)
        if not upload.version_id and finding.version_id:
            fields["version_id"] = finding.version_id
        upload.transition(
            to,
            allowed=Upload.AWAITING_VERIFICATION,
            action=action,
            audit_data={
                "method": finding.method,
                "reason": finding.reason,
                "size": finding.object_size,
                "crc64nvme": finding.object_crc64nvme,
                "sha256": finding.object_sha256,
                "version_id": finding.version_id,
                "duration_ms": duration_ms,
            },
            status_reason=finding.reason,
            **fields,
        )
        upload.verification = result
        notifications.notify_settled(upload)
        transaction.on_commit(_deliver_soon)
    return True


def _settled_state(finding: Finding) -> tuple[str, str, dict]:
    """The state a verification's finding leaves the upload in, and the action it records."""
    if finding.outcome == Outcome.VERIFIED:
        return Upload.Status.VERIFIED, "upload.verified", {"verified_at": timezone.now()}
    if finding.outcome == Outcome.FAILED:
        return Upload.Status.FAILED, "upload.verification_failed", {}
    # Received, nothing to compare with: it stays "uploaded", marked by the result row.
    return Upload.Status.UPLOADED, "upload.received_unverified", {}


def _deliver_soon() -> None:
    # Messages wait for their batch to go quiet; ask again once the quiet time has passed.
    dispatch.deliver_now(notifications.due_ids())


def check(upload: Upload, keep_lease: Callable[[], None] = lambda: None) -> Finding:
    """Compare the stored object with what the customer's side said. Reads no object bytes
    unless deep verification applies."""
    version = upload.version_id or None
    try:
        head = s3.head_object(upload.object_key, version_id=version)
    except s3.StorageError as exc:
        if exc.missing:
            return Finding(
                Outcome.FAILED,
                Method.METADATA,
                "The stored file is missing (no object at the recorded version).",
            )
        raise
    found = Finding(
        Outcome.VERIFIED,
        Method.METADATA,
        object_size=head.size,
        object_crc64nvme=head.checksum_crc64nvme,
        version_id=head.version_id or (version or ""),
    )
    # For CLI uploads the recorded CRC64NVME came from S3 itself, so it proves nothing.
    browser_crc = upload.checksum_crc64nvme if upload.source == Upload.Source.BROWSER else ""
    problem = _metadata_problem(upload, head, browser_crc)
    if problem:
        found.outcome, found.reason = Outcome.FAILED, problem
        return found
    expected_sha = {
        name: value
        for name, value in (
            ("browser", upload.checksum_sha256),
            ("declared", upload.declared_sha256),
            ("expected", delivery.declared_sha256_for(upload)),
        )
        if value
    }
    deep = (
        upload.project.deep_verify
        # The browser left the SHA-256 to the portal (the project's choice).
        or (browser_crc and not upload.checksum_sha256)
        or "expected" in expected_sha
        or (upload.project.deep_verify_declared and upload.declared_sha256)
        or (not browser_crc and expected_sha)
    )
    if deep:
        found.method = Method.DEEP
        found.object_sha256 = sha256_of_object(
            upload.object_key, version, head.size, on_chunk=lambda _done: keep_lease()
        )
        problem = _sha256_problem(found.object_sha256, expected_sha)
        if problem:
            found.outcome, found.reason = Outcome.FAILED, problem
            return found
    if not browser_crc and not (deep and expected_sha):
        found.outcome = Outcome.UNVERIFIED
        found.method = Method.NONE if not deep else Method.DEEP
        found.reason = "Received, not verified: no checksum of the original file was given to compare with."
    return found


def _metadata_problem(upload: Upload, head: s3.ObjectHead, browser_crc: str) -> str:
    """What the stored object's size and CRC64NVME say is wrong ('' when nothing)."""
    if head.size != upload.size:
        return f"The stored file has {head.size:,} bytes; the file had {upload.size:,}."
    if not browser_crc:
        return ""
    if not head.checksum_crc64nvme:
        return "Storage reported no CRC64NVME checksum for the file, so it could not be checked."
    if head.checksum_crc64nvme != browser_crc:
        return (
            f"The stored file's CRC64NVME ({head.checksum_crc64nvme}) differs from the one computed "
            f"from the customer's file ({browser_crc}): some bytes changed on the way."
        )
    return ""


def _sha256_problem(stored: str, expected: dict[str, str]) -> str:
    """The first expected SHA-256 (the browser's, the declared one) the stored bytes do not have."""
    for name, value in expected.items():
        if value.lower() != stored:
            who = {
                "declared": "the customer declared",
                "expected": "declared for this expected file",
            }.get(name, "computed from the customer's file")
            return f"The stored file's SHA-256 ({stored}) differs from the one {who} ({value})."
    return ""


def sha256_of_object(
    key: str,
    version_id: str | None,
    size: int,
    *,
    chunk: int | None = None,
    parallel: int | None = None,
    on_chunk: Callable[[int], None] = lambda _done: None,
) -> str:
    """SHA-256 of one object version from ranged GETs, `parallel` in flight. Chunks are
    hashed in order as they arrive; at most parallel + 1 chunks are in memory."""
    chunk = chunk or settings.VERIFY_CHUNK_BYTES
    parallel = parallel or settings.VERIFY_PARALLEL_GETS
    digest = hashlib.sha256()
    ranges = iter([(start, min(start + chunk, size) - 1) for start in range(0, size, chunk)])
    done = 0
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="verify") as pool:
        in_flight: deque = deque()

        def submit_next() -> None:
            r = next(ranges, None)
            if r is not None:
                in_flight.append((r, pool.submit(s3.get_range, key, r[0], r[1], version_id)))

        for _ in range(parallel):
            submit_next()
        while in_flight:
            (start, end), future = in_flight.popleft()
            data = future.result()
            if len(data) != end - start + 1:
                raise s3.StorageError("ShortRead", f"range {start}-{end} returned {len(data)} bytes")
            submit_next()
            digest.update(data)
            done += len(data)
            del data
            on_chunk(done)
    return digest.hexdigest()
